using System.Text;
using System.Text.Json;
using L4Rt.Interop;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;
using L4Rt.TestChild;
using Microsoft.Win32.SafeHandles;
using Msg = L4Rt.Protocol.Messages;

namespace L4Rt.Tests.Broker;

/// <summary>Dataspaces: shared memory as a broker object, mapped by rights, revoked with its capabilities.</summary>
[Collection(ProcessCollection.Name)]
public class DataspaceTests
{
    private const long Size = 64 * 1024;

    [Fact]
    public async Task ThreeProcesses_OneDataspace_WritesOfEachAreSeenByTheOthers_TheSamePages()
    {
        using BrokerProcess broker = new();
        await using L4Task owner = await broker.ConnectAsync("owner");
        Dataspace dataspace = await owner.Factory.CreateDataspaceAsync(Size);
        using DataspaceMapping mine = await dataspace.MapAsync(CapRights.Write);
        await owner.Names.RegisterAsync("ds/shared", dataspace, CapRights.Read | CapRights.Write | CapRights.Map);

        // B writes where C waits for it; C (read-only) waits for what A writes; A waits for B.
        using ChildProcess b = ChildProcess.Start("task-ds", broker.SocketPath, "ds/shared", "rw", "write", "4096", "from-b", "expect", "8192", "from-a");
        using ChildProcess c = ChildProcess.Start("task-ds", broker.SocketPath, "ds/shared", "r", "expect", "4096", "from-b", "expect", "8192", "from-a");
        string inode = DataspaceProbe.MappedInode(mine);
        Assert.Equal($"MAPPED {Size} {inode}", b.WaitForLine("MAPPED"));
        Assert.Equal($"MAPPED {Size} {inode}", c.WaitForLine("MAPPED")); // the same file's pages in all three
        Assert.Equal("WROTE Ok", b.WaitForLine("WROTE"));
        Assert.True(SpinWait.SpinUntil(() => mine.ReadOnlySpan.Slice(4096, 6).SequenceEqual("from-b"u8), TimeSpan.FromSeconds(20)));
        Assert.Equal("SAW from-b", c.WaitForLine("SAW"));
        Assert.Equal(L4Status.Ok, mine.Write(8192, "from-a"u8));
        Assert.Equal("SAW from-a", b.WaitForLine("SAW"));
        Assert.Equal("SAW from-a", c.WaitForLine("SAW"));
        b.WaitForLine("DONE");
        c.WaitForLine("DONE");
    }

    [Fact]
    public async Task ReadOnlyHolder_WriteIsRefusedByTheApi_AndTheProcessSurvives()
    {
        using BrokerProcess broker = new();
        await using L4Task owner = await broker.ConnectAsync("owner");
        using DataspaceMapping mine = await SharedReadOnly(owner, "ds/ro");

        using ChildProcess reader = ChildProcess.Start("task-ds", broker.SocketPath, "ds/ro", "r", "try-write", "expect", "100", "still-here");
        reader.WaitForLine("MAPPED");
        Assert.Equal("REFUSED span:NoRights write:NoRights first:42", reader.WaitForLine("REFUSED"));
        Assert.Equal(L4Status.Ok, mine.Write(100, "still-here"u8));
        reader.WaitForLine("SAW still-here"); // alive and mapped after the refused writes
        Assert.Equal(42, mine.ReadOnlySpan[0]);

        // A read-only capability cannot be mapped writable at all.
        await using L4Task other = await broker.ConnectAsync("other");
        Dataspace readOnly = await other.Names.QueryAsync<Dataspace>("ds/ro", TimeSpan.Zero);
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => readOnly.MapAsync(CapRights.Write));
        Assert.Equal(L4Status.NoRights, e.Status);
    }

    [Fact]
    public async Task ReadOnlyDescriptor_AsAHostileHolderWouldUseIt_CannotBeMadeWritable()
    {
        using BrokerProcess broker = new();
        await using L4Task owner = await broker.ConnectAsync("owner");
        using DataspaceMapping mine = await SharedReadOnly(owner, "ds/ro");

        // The raw descriptor in another process, bypassing the SDK as a hostile task would: mmap writable EACCES (13),
        // reopening it read-write through /proc/self/fd EACCES (the file's mode), write EBADF (9), sealing it shut
        // for the writers EPERM (1), truncating EINVAL (22: not open for writing).
        using ChildProcess hostile = ChildProcess.Start("task-ds-hostile", broker.SocketPath, "ds/ro");
        Assert.Equal("HOSTILE mmap:13 reopen:13 write:9 seal:1 truncate:22", hostile.WaitForLine("HOSTILE"));
        Assert.True(hostile.WaitForExit(10_000));
        Assert.Equal(42, mine.ReadOnlySpan[0]);
        Assert.Equal(-1, mine.ReadOnlySpan[1..].IndexOfAnyExcept((byte)0)); // nothing written
    }

    /// <summary>A dataspace whose first byte is 42, mapped writable here and registered read-only (read and map rights) under <paramref name="name"/>.</summary>
    private static async Task<DataspaceMapping> SharedReadOnly(L4Task owner, string name)
    {
        Dataspace dataspace = await owner.Factory.CreateDataspaceAsync(Size);
        DataspaceMapping mine = await dataspace.MapAsync(CapRights.Write);
        mine.Span[0] = 42;
        await owner.Names.RegisterAsync(name, dataspace, CapRights.Read | CapRights.Map);
        return mine;
    }

    [Fact]
    public async Task ChainAToBToC_RevokedAtA_BothMappingsLoseThePages_NoFault_CsNextUseIsInvalidCapability()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        Dataspace dataspace = await a.Factory.CreateDataspaceAsync(Size);
        using (DataspaceMapping mine = await dataspace.MapAsync(CapRights.Write))
        {
            "secret"u8.CopyTo(mine.Span);
        }

        await a.Names.RegisterAsync("ds/a", dataspace, CapRights.Read | CapRights.Map);
        using ChildProcess b = ChildProcess.Start("task-ds", broker.SocketPath, "ds/a", "r", "expect", "0", "secret", "register", "ds/b", "wait-revoke");
        b.WaitForLine("REGISTERED");
        using ChildProcess c = ChildProcess.Start("task-ds", broker.SocketPath, "ds/b", "r", "expect", "0", "secret", "wait-revoke");
        c.WaitForLine("SAW secret");

        await dataspace.DeleteAsync(); // the creator's original: the dataspace and everything derived from it go
        Assert.Equal("REVOKED InvalidCapability nonzero:-1 remap:InvalidCapability", b.WaitForLine("REVOKED"));
        Assert.Equal("REVOKED InvalidCapability nonzero:-1 remap:InvalidCapability", c.WaitForLine("REVOKED"));
        Assert.True(b.WaitForExit(10_000) && c.WaitForExit(10_000));
        Assert.Equal((0, 0), (b.ExitCode, c.ExitCode)); // no fault reading the old spans
    }

    [Fact]
    public async Task Revocation_InThisProcess_OldSpansReadZeros_ApiReportsInvalidCapability_DisposeUnmaps()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        await using L4Task b = await broker.ConnectAsync("b");
        Dataspace dataspace = await a.Factory.CreateDataspaceAsync(Size);
        Dataspace lent = new(a, await dataspace.MapToAsync(a.Self, CapRights.Read | CapRights.Write | CapRights.Map), CapRights.Read | CapRights.Write | CapRights.Map);
        await a.Names.RegisterAsync("ds/x", lent, CapRights.Read | CapRights.Write | CapRights.Map);
        Dataspace held = await b.Names.QueryAsync<Dataspace>("ds/x", TimeSpan.Zero);
        DataspaceMapping mapping = await held.MapAsync(CapRights.Write);
        mapping.Span.Fill(7);
        Memory<byte> memory = mapping.Memory;
        Assert.Equal(1, b.MappingCount);

        await lent.DeleteAsync(); // revoked above b: everything derived from a's lent capability goes, the dataspace stays
        Assert.True(SpinWait.SpinUntil(() => mapping.Status != L4Status.Ok, TimeSpan.FromSeconds(10)));
        Assert.Equal(L4Status.InvalidCapability, mapping.Status);
        Assert.Equal(-1, memory.Span.IndexOfAnyExcept((byte)0)); // zero pages now, at the same address
        memory.Span[0] = 1; // scratch: no fault, nobody else sees it
        Assert.Equal(L4Status.InvalidCapability, mapping.Write(0, [1]));
        Assert.Equal(L4Status.InvalidCapability, mapping.Read(0, new byte[1]));
        Assert.Equal(L4Status.InvalidCapability, Assert.Throws<L4RtException>(() => mapping.ReadOnlySpan.Length).Status);
        mapping.Dispose();
        Assert.Equal(0, b.MappingCount);

        using DataspaceMapping stillMine = await dataspace.MapAsync(CapRights.Read); // the creator's capability is untouched
        Assert.Equal(7, stillMine.ReadOnlySpan[0]);
    }

    [Fact]
    public async Task CreatorKilled_DataspaceDestroyed_EveryMappingRevoked_QuotaAndStatusBackToBaseline()
    {
        using BrokerProcess broker = new();
        await using L4Task holder = await broker.ConnectAsync("holder");
        using ChildProcess creator = ChildProcess.Start("task-ds-create", broker.SocketPath, "ds/c", Size.ToString(System.Globalization.CultureInfo.InvariantCulture), "hello");
        creator.WaitForLine("READY");
        Dataspace dataspace = await holder.Names.QueryAsync<Dataspace>("ds/c", TimeSpan.Zero);
        using DataspaceMapping mapping = await dataspace.MapAsync(CapRights.Read);
        Assert.True(mapping.ReadOnlySpan[..5].SequenceEqual("hello"u8));
        using (JsonDocument status = JsonDocument.Parse(await holder.GetBrokerStatusJsonAsync()))
        {
            JsonElement ds = Assert.Single(status.RootElement.GetProperty("dataspaces").EnumerateArray());
            Assert.Equal((Size, 2), (ds.GetProperty("size").GetInt64(), ds.GetProperty("mappings").GetInt32())); // the creator's and ours
        }

        creator.Kill();
        Assert.True(SpinWait.SpinUntil(() => mapping.Status != L4Status.Ok, TimeSpan.FromSeconds(10)), "the mapping was not revoked");
        Assert.Equal(L4Status.InvalidCapability, mapping.Status);
        using JsonDocument after = JsonDocument.Parse(await holder.GetBrokerStatusJsonAsync());
        Assert.Empty(after.RootElement.GetProperty("dataspaces").EnumerateArray());
        Assert.Single(after.RootElement.GetProperty("tasks").EnumerateArray());
    }

    [Fact]
    public async Task Quota_DataspaceChargedToItsFactory_BeyondQuotaNothingCreated_DeleteRefunds_BadSizesRefused()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();
        Factory small = await task.Factory.CreateFactoryAsync(bytes: 3 * Size, objects: 4);
        FactoryUsage empty = await small.GetUsageAsync();
        Dataspace first = await small.CreateDataspaceAsync(2 * Size);
        FactoryUsage charged = await small.GetUsageAsync();
        Assert.Equal((empty.UsedBytes + (2 * Size), empty.UsedObjects + 1, empty.UsedDescriptors + 2), (charged.UsedBytes, charged.UsedObjects, charged.UsedDescriptors));
        Assert.Equal(L4Status.QuotaExceeded, (await Assert.ThrowsAsync<L4RtException>(() => small.CreateDataspaceAsync(2 * Size))).Status);
        Assert.Equal(charged, await small.GetUsageAsync()); // nothing half-created
        await first.DeleteAsync();
        Assert.Equal(empty, await small.GetUsageAsync());

        foreach (long bad in new[] { 0, -4096, 100, 4097, (1L << 30) + 4096 })
        {
            L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => task.Factory.CreateDataspaceAsync(bad));
            Assert.Equal(L4Status.InvalidArgument, e.Status);
        }

        Assert.Equal(L4Status.InvalidCapability, (await Assert.ThrowsAsync<L4RtException>(() => new Dataspace(task, 999, CapRights.All).MapAsync(CapRights.Read))).Status);
        Assert.NotEqual(L4Status.Ok, (await Assert.ThrowsAsync<L4RtException>(() => new Dataspace(task, task.Factory.Slot, CapRights.All).MapAsync(CapRights.Read))).Status);
        await Assert.ThrowsAsync<ArgumentException>(() => first.MapAsync(CapRights.Send));
        Assert.Equal(0, task.MappingCount); // failed mappings are not kept
    }
}
