using System.Globalization;
using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;
using L4Rt.TestChild;

namespace L4Rt.Tests.Paging;

/// <summary>
/// Page faults as IPC: a paged dataspace served by a pager in one process, touched by a reader in another (both real
/// processes: the test host only runs the broker and watches their output).
/// </summary>
[Collection(ProcessCollection.Name)]
public class PagerTests
{
    private const int Pages = 64;
    private const long Size = Pages * PageFault.PageSize;

    [UserFaultFdFact]
    public void FirstTouchOfEachPage_OneFaultIpcEach_ContentIsWhatThePagerSupplied()
    {
        using BrokerProcess broker = new();
        using ChildProcess pager = StartPager(broker, "pg/serve", "serve");
        using ChildProcess reader = ChildProcess.Start("page-reader", broker.SocketPath, "pg/serve", "read", "0", $"{Pages}", "read", "0", $"{Pages}");
        Assert.Equal($"MAPPED {Size} True", reader.WaitForLine("MAPPED"));
        Assert.Equal($"READ {Pages} 0 Ok {Pages}", reader.WaitForLine("READ")); // each page faulted once, all as supplied
        Assert.Equal($"READ {Pages} 0 Ok {Pages}", reader.WaitForLine("READ")); // the second pass faults no more
        reader.WaitForLine("DONE");

        string[] faults = FaultLines(pager);
        Assert.Equal(Pages, faults.Length);
        Assert.Equal(Enumerable.Range(0, Pages).Select(p => $"FAULT {p * PageFault.PageSize} r 5a5a"), faults.OrderBy(OffsetOf));

        // A second process reading the same pages sees them supplied already: the dataspace has them, nobody faults.
        using ChildProcess second = ChildProcess.Start("page-reader", broker.SocketPath, "pg/serve", "read", "0", $"{Pages}");
        Assert.Equal($"READ {Pages} 0 Ok 0", second.WaitForLine("READ"));
        second.WaitForLine("DONE");
        Assert.Equal(Pages, FaultLines(pager).Length);
    }

    [UserFaultFdFact]
    public void FaultPath_AfterWarmUp_AllocatesNothing_InTheFaultingProcess()
    {
        using BrokerProcess broker = new();
        using ChildProcess pager = StartPager(broker, "pg/alloc", "serve");
        using ChildProcess reader = ChildProcess.Start("page-reader", broker.SocketPath, "pg/alloc", "read", "0", "16", "alloc", "16", "48");
        Assert.Equal("READ 16 0 Ok 16", reader.WaitForLine("READ")); // warm-up: the link, JIT, the first faults
        Assert.Equal("ALLOC 0.00 48 Ok", reader.WaitForLine("ALLOC"));
        reader.WaitForLine("DONE");
    }

    [UserFaultFdFact]
    public void ConcurrentFaultsOnOnePage_FromFourThreads_ServedOnce()
    {
        using BrokerProcess broker = new();
        using ChildProcess pager = StartPager(broker, "pg/race", "serve");
        using ChildProcess reader = ChildProcess.Start("page-reader", broker.SocketPath, "pg/race", "race", "7", "4", "race", "9", "4");
        Assert.Equal("RACE True Ok 1", reader.WaitForLine("RACE"));
        Assert.Equal("RACE True Ok 2", reader.WaitForLine("RACE"));
        reader.WaitForLine("DONE");
        Assert.Equal([$"FAULT {7 * PageFault.PageSize} r 5a5a", $"FAULT {9 * PageFault.PageSize} r 5a5a"], FaultLines(pager));
    }

    [UserFaultFdFact]
    public void PagerKilledDuringAFault_FaultingSideGetsDestinationDeleted_Within100Ms_ReadsZeros()
    {
        using BrokerProcess broker = new();
        using ChildProcess pager = StartPager(broker, "pg/hold", "hold", timeoutMs: 60_000);
        using ChildProcess reader = ChildProcess.Start("page-reader", broker.SocketPath, "pg/hold", "touch", "3");
        pager.WaitForLine("FAULT"); // the reader's thread is blocked in the kernel on page 3 now
        long killedAt = pager.Kill();
        string[] touched = reader.WaitForLine("TOUCHED").Split(' ');
        Assert.Equal(["TOUCHED", "DestinationDeleted", "0", "False"], touched[..4]);
        double ms = (long.Parse(touched[4], CultureInfo.InvariantCulture) - killedAt) / 1e6;
        Assert.True(ms < 100, $"the faulting access returned {ms:0.0} ms after the pager was killed");
        reader.WaitForLine("DONE");
        Assert.True(reader.WaitForExit(10_000));
        Assert.Equal(0, reader.ExitCode); // no crash
    }

    [UserFaultFdFact]
    public void DataspaceRevokedWhileAThreadIsBlockedOnAFault_ThreadGoesOnAtOnce_ReadsZeros_InvalidCapability()
    {
        using BrokerProcess broker = new();
        using ChildProcess pager = StartPager(broker, "pg/revoke", "revoke", timeoutMs: 60_000);
        using ChildProcess reader = ChildProcess.Start("page-reader", broker.SocketPath, "pg/revoke", "touch", "2");
        pager.WaitForLine("REVOKED");
        // Long before the 60 s fault timeout: the revocation itself wakes the blocked thread.
        Assert.StartsWith("TOUCHED InvalidCapability 0 False ", reader.WaitForLine("TOUCHED", timeoutMs: 20_000), StringComparison.Ordinal);
        reader.WaitForLine("DONE");
        Assert.True(reader.WaitForExit(10_000));
        Assert.Equal(0, reader.ExitCode);
    }

    [UserFaultFdFact]
    public void TaskDisposedWhileAThreadIsBlockedOnAFault_ThreadGoesOn_MappingAborted()
    {
        using BrokerProcess broker = new();
        using TempDir dir = new();
        string flag = Path.Combine(dir.Path, "fault-seen");
        using ChildProcess pager = StartPager(broker, "pg/dispose", "hold", timeoutMs: 60_000);
        using ChildProcess reader = ChildProcess.Start("page-reader", broker.SocketPath, "pg/dispose", "touch-dispose", "4", flag);
        pager.WaitForLine("FAULT");
        File.WriteAllText(flag, "");
        Assert.Equal("DISPOSED True Aborted 0", reader.WaitForLine("DISPOSED"));
        reader.WaitForLine("DONE");
        Assert.True(reader.WaitForExit(10_000));
        Assert.Equal(0, reader.ExitCode);
    }

    [UserFaultFdFact]
    public void PagerSilent_FaultTimesOut_MappingTornDownWithReceiveTimeout()
    {
        using BrokerProcess broker = new();
        using ChildProcess pager = StartPager(broker, "pg/slow", "hold", timeoutMs: 200);
        using ChildProcess reader = ChildProcess.Start("page-reader", broker.SocketPath, "pg/slow", "touch", "0", "read", "1", "1");
        Assert.StartsWith("TOUCHED ReceiveTimeout 0 False ", reader.WaitForLine("TOUCHED"), StringComparison.Ordinal);
        Assert.Equal("READ 0 1 ReceiveTimeout 0", reader.WaitForLine("READ")); // torn down: zeros, no more faults, no hang
        reader.WaitForLine("DONE");
    }

    [UserFaultFdTheory]
    [InlineData("wrong-offset", "ProtocolViolation")]
    [InlineData("oversize", "ProtocolViolation")]
    [InlineData("lie", "ProtocolViolation")]
    [InlineData("refuse", "NoRights")]
    public void PagerAnswersGarbageOrRefuses_FaultIsRefused_MappingTornDownWithTheStatus(string behaviour, string status)
    {
        using BrokerProcess broker = new();
        using ChildProcess pager = StartPager(broker, "pg/bad", behaviour);
        using ChildProcess reader = ChildProcess.Start("page-reader", broker.SocketPath, "pg/bad", "touch", "5", "touch", "6");
        string first = reader.WaitForLine("TOUCHED");
        if (behaviour is "wrong-offset" or "oversize")
        {
            // These pagers place the page before the bad answer: a blocked access that the kernel retried meanwhile (a
            // signal interrupts the wait) may read that page before the mapping is torn down.
            Assert.Matches($@"^TOUCHED ({status} 0 False|(Ok|{status}) [0-9]+ True) ", first);
        }
        else
        {
            Assert.StartsWith($"TOUCHED {status} 0 False ", first, StringComparison.Ordinal);
        }

        Assert.StartsWith($"TOUCHED {status} 0 False ", reader.WaitForLine("TOUCHED"), StringComparison.Ordinal); // torn down: no second fault
        reader.WaitForLine("DONE");
        Assert.Single(FaultLines(pager));
    }

    [UserFaultFdFact]
    public async Task InOneProcess_PagerAndReader_PrefetchedPagesDoNotFault_StatusShowsThePagedDataspace()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync("self-paged");
        using L4Thread server = await task.CreateThreadAsync();
        Gate gate = await task.Factory.CreateGateAsync(server, 1);
        Dataspace dataspace = await task.Factory.CreatePagedDataspaceAsync(Size, gate, 77, TimeSpan.FromSeconds(5));
        using PagerBacking backing = await dataspace.MapBackingAsync();
        byte[] page = new byte[PageFault.PageSize];
        Content.FillRecord(page, 2);
        Assert.Equal(L4Status.Ok, backing.Supply(2 * PageFault.PageSize, page)); // prefetch
        Assert.Equal(L4Status.AlreadyExists, backing.Supply(2 * PageFault.PageSize, new byte[PageFault.PageSize]));
        Assert.True(backing.IsSupplied(2 * PageFault.PageSize));
        Assert.False(backing.IsSupplied(3 * PageFault.PageSize));
        Assert.Throws<ArgumentOutOfRangeException>(() => backing.Supply(100, page));
        Assert.Throws<ArgumentException>(() => backing.Supply(0, page.AsSpan(1)));

        int faults = 0, writeFaults = 0;
        Thread pagerLoop = new(() =>
        {
            byte[] content = new byte[PageFault.PageSize];
            IpcResult received = server.Wait(L4Timeout.Never);
            while (received.IsOk && PageFault.TryRead(server.Utcb, received.Tag, out PageFault fault))
            {
                Interlocked.Increment(ref faults);
                if (fault.IsWrite)
                {
                    Interlocked.Increment(ref writeFaults);
                }

                Content.FillRecord(content, fault.Offset / PageFault.PageSize);
                L4Status placed = backing.Supply(fault.Offset, content);
                received = server.ReplyAndWait(PageFault.Reply(server.Utcb, fault, placed is L4Status.Ok or L4Status.AlreadyExists ? L4Status.Ok : L4Status.Aborted), L4Timeout.Never);
            }
        }) { IsBackground = true };
        pagerLoop.Start();

        using DataspaceMapping mapping = await dataspace.MapAsync(CapRights.Read);
        Assert.True(mapping.IsPaged);
        byte[] expected = new byte[PageFault.PageSize];
        for (int p = 0; p < 4; p++)
        {
            Content.FillRecord(expected, p);
            byte[] got = new byte[PageFault.PageSize];
            Assert.Equal(L4Status.Ok, mapping.Read(p * PageFault.PageSize, got));
            Assert.Equal(expected, got);
        }

        Assert.Equal(3, mapping.FaultsServed); // pages 0, 1, 3: page 2 was prefetched
        Assert.Equal(3, Volatile.Read(ref faults));

        // A read-write mapping: a store to a missing page faults as a write, is served, then lands in the page every mapping sees.
        using DataspaceMapping writable = await dataspace.MapAsync(CapRights.Write);
        StoreByte(writable, 5 * PageFault.PageSize, 9);
        Assert.Equal((1, 4, 1), (Volatile.Read(ref writeFaults), Volatile.Read(ref faults), writable.FaultsServed));
        byte[] back = new byte[PageFault.PageSize];
        Assert.Equal(L4Status.Ok, mapping.Read(5 * PageFault.PageSize, back)); // the read-only view: no fault, the written page
        Content.FillRecord(expected, 5);
        expected[0] = 9;
        Assert.Equal(expected, back);
        Assert.Equal(3, mapping.FaultsServed);

        using JsonDocument status = JsonDocument.Parse(await task.GetBrokerStatusJsonAsync());
        JsonElement paged = status.RootElement.GetProperty("dataspaces")[0].GetProperty("paged");
        Assert.Equal(5000, paged.GetProperty("faultTimeoutMs").GetInt32());
        Assert.Equal(1, paged.GetProperty("tasksWithPager").GetInt32()); // one pager capability for both mappings of this task
        Assert.Equal(1, paged.GetProperty("backingMappings").GetInt32());
        (int code, string stdout, string stderr) = ToolProcess.Cli("--socket", broker.SocketPath, "status");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains($"gate {paged.GetProperty("gate").GetInt64()}, 5000 ms, 1 tasks, 1 backings", stdout, StringComparison.Ordinal); // the operator's view
        server.Abort();
        pagerLoop.Join();
    }

    [UserFaultFdFact]
    public async Task BackingOfAnOrdinaryDataspace_IsRefused_AndAPagerGateWithoutMapRight_IsRefused()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync("refusals");
        Dataspace plain = await task.Factory.CreateDataspaceAsync(Size);
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => plain.MapBackingAsync());
        Assert.Equal(L4Status.InvalidArgument, e.Status);

        using L4Thread server = await task.CreateThreadAsync();
        Gate gate = await task.Factory.CreateGateAsync(server, 1);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => task.Factory.CreatePagedDataspaceAsync(Size, gate, 1, TimeSpan.Zero));
        await task.Names.RegisterAsync("pg/send-only", gate, CapRights.Send);
        await using L4Task other = await broker.ConnectAsync("other");
        Gate sendOnly = await other.Names.QueryAsync<Gate>("pg/send-only", TimeSpan.Zero);
        e = await Assert.ThrowsAsync<L4RtException>(() => other.Factory.CreatePagedDataspaceAsync(Size, sendOnly, 1, TimeSpan.FromSeconds(1)));
        Assert.Equal(L4Status.NoRights, e.Status);
    }

    /// <summary>One store through the mapping's memory (a write fault when the page is missing; a copy routine may read first).</summary>
    private static unsafe void StoreByte(DataspaceMapping mapping, long offset, byte value) => Volatile.Write(ref mapping.Pointer[offset], value);

    private static ChildProcess StartPager(BrokerProcess broker, string name, string behaviour, int timeoutMs = 20_000)
    {
        ChildProcess pager = ChildProcess.Start("page-pager", broker.SocketPath, name, $"{Size}", behaviour, $"{timeoutMs}");
        try
        {
            pager.WaitForLine("PAGER ready");
            return pager;
        }
        catch
        {
            pager.Dispose();
            throw;
        }
    }

    private static string[] FaultLines(ChildProcess pager) =>
        pager.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith("FAULT ", StringComparison.Ordinal)).ToArray();

    private static long OffsetOf(string faultLine) => long.Parse(faultLine.Split(' ')[1], CultureInfo.InvariantCulture);
}
