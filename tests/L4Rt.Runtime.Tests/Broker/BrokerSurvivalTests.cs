using System.Diagnostics;
using System.Text.Json;
using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>
/// Inputs that used to kill l4rtd, each from a hostile client process against a real broker: the broker keeps
/// its pid, an honest task's calls keep working during and after, and once the hostile process is gone the
/// broker's descriptors return to their baseline.
/// </summary>
[Collection(ProcessCollection.Name)]
public class BrokerSurvivalTests
{
    [Fact]
    public async Task FailingHandlerAndFailingAnswer_CostOneRequest_SessionAndBrokerGoOn()
    {
        using BrokerProcess broker = new("--Faults:Kernel:0", "FactoryUsage", "--Faults:Session:0", "NameList");
        await using Honest honest = await Honest.StartAsync(broker);
        await using L4Task victim = await broker.ConnectAsync("victim");

        L4RtException inKernel = await Assert.ThrowsAsync<L4RtException>(() => victim.Factory.GetUsageAsync());
        Assert.Equal(L4Status.Aborted, inKernel.Status);
        Assert.Contains("internal broker error: injected kernel fault", inKernel.Message, StringComparison.Ordinal);
        L4RtException answering = await Assert.ThrowsAsync<L4RtException>(() => victim.Names.ListAsync());
        Assert.Equal(L4Status.Aborted, answering.Status);
        Assert.Contains("injected session fault", answering.Message, StringComparison.Ordinal);

        // The same session goes on, and so does everyone else.
        using L4Thread thread = await victim.CreateThreadAsync();
        await victim.Factory.CreateGateAsync(thread, 5);
        honest.AssertServes();
        Assert.False(broker.HasExited, broker.Output);
        Assert.Contains("injected kernel fault", broker.Output, StringComparison.Ordinal); // logged once, with the pid
    }

    [Fact]
    public async Task AcceptOutOfDescriptors_ShedsTheWaitingConnectionWithAReason_AndGoesOnAccepting()
    {
        using BrokerProcess broker = new("--Faults:AcceptEmfile", "3");
        for (int i = 0; i < 3; i++)
        {
            L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => broker.ConnectAsync($"shed{i}"));
            Assert.Equal(L4Status.QuotaExceeded, e.Status);
            Assert.Contains("out of descriptors", e.Message, StringComparison.Ordinal);
        }

        await using Honest honest = await Honest.StartAsync(broker);
        honest.AssertServes();
        Assert.False(broker.HasExited, broker.Output);
    }

    [Fact]
    public async Task TenThousandLongestNames_ListAndStatusArePaged_NamesAreChargedAndReleased()
    {
        const int Count = 10_000;
        using BrokerProcess broker = new("--TaskQuotaObjects", "20000");
        await using Honest honest = await Honest.StartAsync(broker);
        int baseline = await honest.WarmUpAndCountFdsAsync(broker);

        using (ChildProcess hostile = ChildProcess.Start("hostile-names", broker.SocketPath, Count.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            hostile.WaitForLine("REGISTERED", 120_000);
            IReadOnlyList<NameInfo> names = await honest.Task.Names.ListAsync();
            List<string> theirs = [.. names.Select(n => n.Name).Where(n => n.StartsWith("hostile/", StringComparison.Ordinal))];
            Assert.Equal(Count, theirs.Count);
            Assert.All(theirs, n => Assert.Equal(ProtocolLimits.MaxNameLength, n.Length));
            Assert.Equal(theirs.Order(StringComparer.Ordinal), theirs); // one ordered list across pages, nothing twice
            Assert.True(Count * ProtocolLimits.MaxNameLength > ProtocolLimits.MaxFrameSize * 10);

            string json = await honest.Task.GetBrokerStatusJsonAsync();
            Assert.True(json.Length > ProtocolLimits.MaxFrameSize * 10, $"status is only {json.Length} bytes");
            using JsonDocument status = JsonDocument.Parse(json);
            Assert.Equal(Count + 1, status.RootElement.GetProperty("names").GetArrayLength()); // theirs and the honest task's
            honest.AssertServes();
        }

        Stopwatch released = Stopwatch.StartNew();
        while ((await honest.Task.Names.ListAsync()).Count > 1 && released.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50); // the broker learns of the death from the socket's end
        }

        Assert.Single(await honest.Task.Names.ListAsync()); // the dead task's names went with it
        honest.AssertServes();
        AssertFdsReturnTo(broker, baseline);
        Assert.False(broker.HasExited, broker.Output);
    }

    [Fact]
    public async Task Cli_StatusAndNames_BeyondOneFrame_PrintEverything()
    {
        using BrokerProcess broker = new();
        await using Honest honest = await Honest.StartAsync(broker);
        Gate gate = await honest.Task.Factory.CreateGateAsync(honest.Server, 4);
        for (int i = 0; i < 1500; i++)
        {
            await honest.Task.Names.RegisterAsync($"cli/{i:D4}/".PadRight(ProtocolLimits.MaxNameLength, 'y'), gate);
        }

        (int code, string output) = CliTests.Run(broker, "status", "--json");
        Assert.True(code == 0, output);
        Assert.True(output.Length > 3 * ProtocolLimits.MaxFrameSize, $"{output.Length} characters");
        using (JsonDocument status = JsonDocument.Parse(output))
        {
            Assert.Equal(1501, status.RootElement.GetProperty("names").GetArrayLength());
        }

        (code, output) = CliTests.Run(broker, "names");
        Assert.True(code == 0, output);
        Assert.Contains("cli/1499/", output, StringComparison.Ordinal);
        Assert.Contains("cli/0000/", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Names_CostObjectQuota_UnregisterRefunds()
    {
        using BrokerProcess broker = new("--TaskQuotaObjects", "6");
        await using L4Task task = await broker.ConnectAsync();
        using L4Thread thread = await task.CreateThreadAsync();
        Gate gate = await task.Factory.CreateGateAsync(thread, 1); // two objects used: thread, gate
        for (int i = 0; i < 4; i++)
        {
            await task.Names.RegisterAsync($"n{i}", gate);
        }

        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => task.Names.RegisterAsync("n4", gate));
        Assert.Equal(L4Status.QuotaExceeded, e.Status);
        await task.Names.UnregisterAsync("n0");
        await task.Names.RegisterAsync("n4", gate);
        Assert.Equal(6, (await task.Factory.GetUsageAsync()).UsedObjects);
    }

    [Fact]
    public async Task OverlongStrings_RefusedOnArrival_BeforeDecoding_WithShortReplies()
    {
        using BrokerProcess broker = new();
        await using Honest honest = await Honest.StartAsync(broker);
        using RawClient raw = new(broker.SocketPath);

        (L4Status status, string message, int length) = raw.Call(Opcode.Hello, new Payload().UInt32(ProtocolLimits.ProtocolVersion).String(new string('t', 60_000)));
        Assert.Equal(L4Status.ProtocolViolation, status);
        Assert.Contains($"the task name is 60000 bytes; at most {ProtocolLimits.MaxTaskNameLength}", message, StringComparison.Ordinal);

        (status, _, _) = raw.Call(Opcode.Hello, new Payload().UInt32(ProtocolLimits.ProtocolVersion).String("raw"));
        Assert.Equal(L4Status.Ok, status);
        (status, message, length) = raw.Call(Opcode.NameRegister, new Payload().Int32(2).Int32(0).UInt32(0).String(new string('n', 65_000)));
        Assert.Equal(L4Status.ProtocolViolation, status);
        Assert.Contains($"a name is 65000 bytes; at most {ProtocolLimits.MaxNameLength}", message, StringComparison.Ordinal);
        Assert.True(length < 2048, $"the refusal was {length} bytes");

        // A name of legal length but illegal characters is quoted in the error: the reply stays short.
        (status, message, length) = raw.Call(Opcode.NameQuery, new Payload().Int32(2).Int32(0).String(new string('é', 64)));
        Assert.Equal(L4Status.InvalidArgument, status);
        Assert.Contains("is not a valid name", message, StringComparison.Ordinal);
        (status, _, length) = raw.Call(Opcode.NameList, new Payload().Int32(2).String(new string('z', 129)));
        Assert.Equal(L4Status.ProtocolViolation, status);
        Assert.True(length <= ProtocolLimits.MaxErrorMessageLength + 64);
        honest.AssertServes();
        Assert.False(broker.HasExited, broker.Output);
    }

    [Fact]
    public async Task WrongKindDescriptors_EachRefusedWithItsReason_NothingHeldAfter()
    {
        using BrokerProcess broker = new();
        await using Honest honest = await Honest.StartAsync(broker);
        int baseline = await honest.WarmUpAndCountFdsAsync(broker);
        Dictionary<string, string> expected = new()
        {
            ["pipe"] = "is a pipe, not a memfd",
            ["directory"] = "is a directory, not a memfd",
            ["dev-zero"] = "is a character device, not a memfd",
            ["socket"] = "is a socket, not a memfd",
            ["regular-file"] = "not a memfd",
            ["read-only-memfd"] = "is open read-only",
            ["unsealed-memfd"] = "is not size-sealed",
            ["shrunk-memfd"] = "is 2048 bytes; 4096 were expected",
            ["write-sealed-memfd"] = "is write-sealed",
        };
        using (ChildProcess hostile = ChildProcess.Start("hostile-fds", broker.SocketPath))
        {
            foreach ((string kind, string reason) in expected)
            {
                string line = hostile.WaitForLine($"FD {kind} ");
                Assert.StartsWith($"FD {kind} ProtocolViolation ", line, StringComparison.Ordinal);
                Assert.Contains(reason, line, StringComparison.Ordinal);
                Assert.DoesNotContain("internal", line, StringComparison.Ordinal);
            }

            Assert.StartsWith("FD good Ok", hostile.WaitForLine("FD good"), StringComparison.Ordinal); // the check refuses only what is wrong
            hostile.WaitForLine("DONE");
            honest.AssertServes();
        }

        AssertFdsReturnTo(broker, baseline);
        honest.AssertServes();
    }

    [Fact]
    public async Task DescriptorExhaustion_ThroughEveryPath_UnderLowUlimit_QuotaExceeded_BrokerLives()
    {
        using BrokerProcess broker = new(fdLimit: 256, "--TaskQuotaFds", "20");
        Assert.Contains("limit 256", broker.FdBudgetLine ?? "", StringComparison.Ordinal);
        await using Honest honest = await Honest.StartAsync(broker);
        int baseline = await honest.WarmUpAndCountFdsAsync(broker);
        using (ChildProcess hostile = ChildProcess.Start("hostile-exhaust", broker.SocketPath))
        {
            foreach (string path in new[] { "threads", "channels", "irqs", "links" })
            {
                string line = hostile.WaitForLine($"EXHAUSTED {path} ", 60_000);
                string[] parts = line.Split(' ', 5);
                Assert.True(int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) > 0, line);
                Assert.Equal("QuotaExceeded", parts[3]);
                if (path != "links")
                {
                    Assert.Contains("descriptor", parts[4], StringComparison.Ordinal); // a link's first send reports the status only
                }

                honest.AssertServes();
            }

            string global = hostile.WaitForLine("GLOBAL ", 60_000);
            Assert.Contains("descriptors", global, StringComparison.Ordinal);
            hostile.WaitForLine("DONE");
            honest.AssertServes();
            Assert.NotEmpty(await honest.Task.GetBrokerStatusJsonAsync());
            Assert.False(broker.HasExited, broker.Output);
        }

        AssertFdsReturnTo(broker, baseline);
        using L4Thread again = await honest.Task.CreateThreadAsync(); // the budget came back
        honest.AssertServes();
    }

    [Fact]
    public async Task ConnectionFlood_UnderLowUlimit_PendingBounded_DroppedAfterHelloTimeout()
    {
        using BrokerProcess broker = new(fdLimit: 256, "--MaxPendingConnections", "16", "--HelloTimeout", "00:00:02");
        await using Honest honest = await Honest.StartAsync(broker);
        int baseline = await honest.WarmUpAndCountFdsAsync(broker);
        using ChildProcess hostile = ChildProcess.Start("hostile-flood", broker.SocketPath, "300");
        string[] flood = hostile.WaitForLine("FLOOD ", 60_000).Split(' ');
        Assert.Equal("300", flood[1]);
        Assert.True(int.Parse(flood[2], System.Globalization.CultureInfo.InvariantCulture) >= 300 - 16, string.Join(' ', flood)); // refused at once, with a reason
        honest.AssertServes();

        // The 16 that were let in never join: dropped after the Hello timeout, while the flooder still lives.
        AssertFdsReturnTo(broker, baseline);
        await using L4Task late = await broker.ConnectAsync("late");
        Assert.NotEmpty(await late.Names.ListAsync());
        honest.AssertServes();
        Assert.False(broker.HasExited, broker.Output);
    }

    private static string s_baselineFds = "";

    private static void AssertFdsReturnTo(BrokerProcess broker, int baseline)
    {
        Stopwatch wait = Stopwatch.StartNew();
        while (broker.OpenFds > baseline && wait.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(50);
        }

        Assert.True(broker.OpenFds <= baseline, $"the broker holds {broker.OpenFds} descriptors, {baseline} before the hostile client; new since:\n{string.Join('\n', broker.DescribeFds().Split('\n').Except(s_baselineFds.Split('\n')))}");
    }

    /// <summary>A well-behaved task: a server thread answering on a named gate, and a caller with its link set up.</summary>
    private sealed class Honest : IAsyncDisposable
    {
        private readonly L4Thread _server;
        private readonly Thread _serving;
        private readonly L4Thread _caller = new();
        private Gate _gate = null!;

        private Honest(L4Task task, L4Thread server)
        {
            Task = task;
            _server = server;
            _serving = new Thread(() =>
            {
                IpcResult msg = _server.Wait(L4Timeout.Never);
                while (msg.IsOk)
                {
                    _server.Utcb.Mr[0]++;
                    msg = _server.ReplyAndWait(msg.Tag, L4Timeout.Never);
                }
            }) { IsBackground = true, Name = "honest-server" };
        }

        internal L4Task Task { get; }

        internal L4Thread Server => _server;

        internal static async Task<Honest> StartAsync(BrokerProcess broker)
        {
            L4Task task = await broker.ConnectAsync("honest");
            Honest honest = new(task, await task.CreateThreadAsync());
            honest._serving.Start();
            await task.Names.RegisterAsync("honest/echo", await task.Factory.CreateGateAsync(honest._server, 3));
            honest._gate = await task.Names.QueryAsync<Gate>("honest/echo", TimeSpan.Zero);
            honest.AssertServes();
            return honest;
        }

        /// <summary>Exercises the broker's paths once (so lazily loaded code holds its descriptors), then counts them.</summary>
        internal async Task<int> WarmUpAndCountFdsAsync(BrokerProcess broker)
        {
            using (L4Thread thread = await Task.CreateThreadAsync())
            {
                Channel channel = await Task.Factory.CreateChannelAsync(4096);
                Irq irq = await Task.Factory.CreateIrqAsync(thread, 1);
                Factory none = await Task.Factory.CreateFactoryAsync(0, 0);
                await Assert.ThrowsAsync<L4RtException>(() => none.CreateGateAsync(thread, 1));
                await Assert.ThrowsAsync<ArgumentException>(() => Task.Names.QueryAsync("/bad", TimeSpan.Zero));
                await Assert.ThrowsAsync<L4RtException>(() => Task.Names.QueryAsync("absent", TimeSpan.Zero));
                await Task.GetBrokerStatusJsonAsync();
                await Task.Names.ListAsync();
                await channel.DeleteAsync();
                await irq.DeleteAsync();
                await none.DeleteAsync();
            }

            Thread.Sleep(300);
            s_baselineFds = broker.DescribeFds();
            return broker.OpenFds;
        }

        /// <summary>A call through the existing link and a control call both work.</summary>
        internal void AssertServes()
        {
            _caller.Utcb.Mr[0] = 41;
            IpcResult r = _caller.Call(_gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000));
            Assert.Equal(L4Status.Ok, r.Status);
            Assert.Equal(42UL, _caller.Utcb.Mr[0]);
            Capability found = Task.Names.QueryAsync("honest/echo", TimeSpan.Zero).GetAwaiter().GetResult();
            found.DeleteAsync().GetAwaiter().GetResult();
        }

        public async ValueTask DisposeAsync()
        {
            _server.Abort();
            _serving.Join(5000);
            _caller.Dispose();
            _server.Dispose();
            await Task.DisposeAsync();
        }
    }

    /// <summary>A raw control connection: one request at a time, its reply read back.</summary>
    private sealed class RawClient(string path) : IDisposable
    {
        private readonly UnixSeqpacketSocket _socket = UnixSeqpacketSocket.TryConnect(path, out int errno) ?? throw new IOException($"connect failed: {errno}");
        private readonly byte[] _buffer = new byte[ProtocolLimits.MaxFrameSize + 1];
        private uint _id;

        internal (L4Status Status, string Message, int Length) Call(Opcode opcode, Payload payload)
        {
            _socket.Send(Payload.Frame(FrameKind.Request, opcode, ++_id, L4Status.Ok, payload.Span));
            Assert.True(_socket.WaitReadable(10_000), $"no reply to {opcode}");
            List<SafeFdHandle> fds = [];
            int length = _socket.Receive(_buffer, fds);
            Assert.True(FrameHeader.TryParse(_buffer.AsSpan(0, length), out FrameHeader header, out string? error), error);
            FrameReader reader = new(_buffer.AsSpan(FrameHeader.Size, length - FrameHeader.Size));
            string message = header.Status == L4Status.Ok || reader.Remaining < 2 ? "" : reader.ReadString();
            foreach (SafeFdHandle fd in fds)
            {
                fd.Dispose();
            }

            return (header.Status, message, length);
        }

        public void Dispose() => _socket.Dispose();
    }
}
