using System.Diagnostics;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;
using Xunit.Abstractions;

namespace L4Rt.Tests.Bridge;

/// <summary>
/// A client on broker A calls a server on broker B through two gate bridges (gRPC, mutual TLS, loopback) with the
/// same code as a local call, and sees the same statuses: replies, the label, timeouts, dropped replies, the server's
/// death, the exporting bridge's death; unexported names and untrusted peers get nothing.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class BridgeTests(ITestOutputHelper output)
{
    private const int Increment = 1, SleepThenReply = 2, Drop = 3, Hold = 4, Label = 5, Pages = 6, CallBack = 7, CallKept = 8;

    [Fact]
    public async Task Call_OnAnImportedName_IsALocalCall_RepliesLabelSendsAndIrqs()
    {
        using BridgeHosts hosts = new();
        await using L4Task client = await hosts.A.ConnectAsync("client");
        Gate svc = await client.Names.QueryAsync<Gate>("b/svc", TimeSpan.FromSeconds(30));
        using L4Thread me = new();
        for (int i = 0; i < 200; i++)
        {
            int words = 1 + (i % MsgTag.MaxWords);
            for (int w = 0; w < words; w++)
            {
                me.Utcb.Mr[w] = (ulong)((i * 1000) + w);
            }

            IpcResult r = me.Call(svc, new MsgTag(Increment, words), L4Timeout.FromSeconds(10));
            Assert.Equal(L4Status.Ok, r.Status);
            Assert.Equal(words, r.Tag.Words);
            Assert.Equal((ulong)(i * 1000) + 1, me.Utcb.Mr[0]);
            for (int w = 1; w < words; w++)
            {
                Assert.Equal((ulong)((i * 1000) + w), me.Utcb.Mr[w]);
            }
        }

        // The server sees the label of the gate it registered, as for a local caller.
        IpcResult labelled = me.Call(svc, new MsgTag(Label, 0), L4Timeout.FromSeconds(10));
        Assert.Equal(L4Status.Ok, labelled.Status);
        Assert.Equal(42UL, me.Utcb.Mr[0]);

        // One-way sends and IRQ triggers arrive too.
        me.Utcb.Mr[0] = 4711;
        Assert.Equal(L4Status.Ok, me.Send(svc, new MsgTag(Increment, 1), L4Timeout.FromSeconds(10)).Status);
        hosts.Server!.WaitForLine("SEND 4711 42", 10_000);
        Irq irq = await client.Names.QueryAsync<Irq>("b/svc-irq", TimeSpan.FromSeconds(30));
        Assert.Equal(L4Status.Ok, irq.Trigger());
        Assert.EndsWith(" 7", hosts.Server.WaitForLine("IRQ ", 10_000), StringComparison.Ordinal); // the label of the server's own IRQ

        // The operator sees the bridge and what it imported.
        (int code, string status, string err) = ToolProcess.Cli("--socket", hosts.A.SocketPath, "status");
        Assert.True(code == 0, err);
        string[] bridgeRow = status[status.IndexOf("bridge  ", StringComparison.Ordinal)..].Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("a", bridgeRow[0]);
        Assert.Contains("b/svc", bridgeRow);
        Assert.Contains("b/svc-irq", bridgeRow);
        Assert.Contains("exports nothing", status, StringComparison.Ordinal); // bridge a only imports

        // On host B the operator sees what bridge b exports to which peers (its task note), and in the JSON too.
        (code, status, err) = ToolProcess.Cli("--socket", hosts.B.SocketPath, "status");
        Assert.True(code == 0, err);
        Assert.Contains("exports svc → a; svc-irq → a; only-for-c → c; feed → a; news → a (listening on https://127.0.0.1:", status, StringComparison.Ordinal);
        (code, string json, err) = ToolProcess.Cli("--socket", hosts.B.SocketPath, "status", "--json");
        Assert.True(code == 0, err);
        using System.Text.Json.JsonDocument doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Contains(doc.RootElement.GetProperty("tasks").EnumerateArray(), t => t.GetProperty("name").GetString() == "l4rt-bridge:b"
            && t.GetProperty("note").GetString()!.StartsWith("exports svc → a;", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Flexpages_CrossHostsOnlyCopied_WithTheCallersConsent_WritableOnesCopiedBack()
    {
        using BridgeHosts hosts = new();
        await using L4Task client = await hosts.A.ConnectAsync("client");
        Gate svc = await client.Names.QueryAsync<Gate>("b/svc", TimeSpan.FromSeconds(30));
        Dataspace dataspace = await client.Factory.CreateDataspaceAsync(3 * 4096);
        using DataspaceMapping mine = await dataspace.MapAsync(CapRights.Write);
        mine.GetSpan(0, 4096).Fill(1);
        mine.GetSpan(4096, 8192).Fill(2);
        using L4Thread me = new();
        void Lend()
        {
            MsgItem.Flexpage(dataspace, 0, 4096, CapRights.Read).WriteTo(me.Utcb.Mr);
            MsgItem.Flexpage(dataspace, 4096, 8192, CapRights.Write).WriteTo(me.Utcb.Mr[2..]);
        }

        // Without the caller's consent nothing is copied: refused as if there were no room.
        Lend();
        Assert.Equal(L4Status.NoReceiveBuffer, me.Call(svc, new MsgTag(Pages, 0, 2), L4Timeout.FromSeconds(10)).Status);

        Lend();
        IpcResult r = me.Call(svc, new MsgTag(Pages, 0, 2, MsgTagFlags.CopyMemory), L4Timeout.FromSeconds(10));

        Assert.Equal((L4Status.Ok, 2), (r.Status, r.Tag.Words));
        Assert.Equal((4096UL, 8192UL * 2), (me.Utcb.Mr[0], me.Utcb.Mr[1])); // the server on host B read the caller's bytes
        Assert.Equal("PAGES 0 length:4096 writable:False wrote:NoRights", hosts.Server!.WaitForLine("PAGES 0", 10_000));
        Assert.Equal("PAGES 1 length:8192 writable:True wrote:Ok", hosts.Server.WaitForLine("PAGES 1", 10_000));
        Assert.True(mine.ReadOnlySpan.Slice(4096, 6).SequenceEqual("served"u8)); // its write came back before the reply
        Assert.Equal(2, mine.ReadOnlySpan[4096 + 6]);
        Assert.Equal(-1, mine.GetSpan(0, 4096).IndexOfAnyExcept((byte)1)); // the read-only page is as it was

        // More than the bridge copies per message (1 MiB by default): refused too; plain calls go on.
        Dataspace large = await client.Factory.CreateDataspaceAsync(2 << 20);
        MsgItem.Flexpage(large, 0, 2 << 20, CapRights.Read).WriteTo(me.Utcb.Mr);
        Assert.Equal(L4Status.NoReceiveBuffer, me.Call(svc, new MsgTag(Pages, 0, 1, MsgTagFlags.CopyMemory), L4Timeout.FromSeconds(10)).Status);
        me.Utcb.Mr[0] = 1;
        Assert.Equal((L4Status.Ok, 2UL), (me.Call(svc, new MsgTag(Increment, 1), L4Timeout.FromSeconds(10)).Status, me.Utcb.Mr[0]));
    }

    [Fact]
    public async Task GateItem_CrossesAsAHandle_TheRemoteServerCallsItBack_AndLearnsWhenItIsGone()
    {
        using BridgeHosts hosts = new();
        await using L4Task client = await hosts.A.ConnectAsync("client");
        Gate svc = await client.Names.QueryAsync<Gate>("b/svc", TimeSpan.FromSeconds(30));

        // A gate of the client's task on host A, served here: MR0 × 10.
        using L4Thread local = await client.CreateThreadAsync();
        Gate mine = await client.Factory.CreateGateAsync(local, 99);
        Thread serving = new(() =>
        {
            IpcResult m = local.Wait(L4Timeout.FromSeconds(30));
            while (m.IsOk)
            {
                local.Utcb.Mr[0] *= 10;
                m = local.ReplyAndWait(new MsgTag(1, 1), L4Timeout.FromSeconds(30));
            }
        }) { IsBackground = true };
        serving.Start();

        using L4Thread me = new();
        me.Utcb.Mr[0] = 7;
        MsgItem.Map(mine, CapRights.Send).WriteTo(me.Utcb.Mr[1..]);
        IpcResult r = me.Call(svc, new MsgTag(CallBack, 1, 1), L4Timeout.FromSeconds(10));

        Assert.Equal((L4Status.Ok, 70UL), (r.Status, me.Utcb.Mr[0])); // the server on B called our gate on A through the bridges
        Assert.Equal("GOT-GATE rights:Send", hosts.Server!.WaitForLine("GOT-GATE", 10_000));
        me.Utcb.Mr[0] = 3;
        Assert.Equal((L4Status.Ok, 30UL), (me.Call(svc, new MsgTag(CallKept, 1), L4Timeout.FromSeconds(10)).Status, me.Utcb.Mr[0])); // it keeps working

        await mine.DeleteAsync(); // gone on A: the server's next call on its proxy gets DestinationDeleted
        me.Utcb.Mr[0] = 3;
        Assert.Equal(L4Status.Ok, me.Call(svc, new MsgTag(CallKept, 1), L4Timeout.FromSeconds(10)).Status);
        Assert.Equal(1000UL + (ulong)L4Status.DestinationDeleted, me.Utcb.Mr[0]);
    }

    [Fact]
    public async Task Timeouts_AndDroppedReplies_GiveTheLocalStatuses()
    {
        using BridgeHosts hosts = new();
        await using L4Task client = await hosts.A.ConnectAsync("client");
        Gate svc = await client.Names.QueryAsync<Gate>("b/svc", TimeSpan.FromSeconds(30));
        using L4Thread me = new();

        // The caller's receive timeout travels: a server slower than it gives ReceiveTimeout, at the caller's deadline.
        me.Utcb.Mr[0] = 600;
        long start = Stopwatch.GetTimestamp();
        IpcResult late = me.Call(svc, new MsgTag(SleepThenReply, 1), L4Timeout.FromSeconds(10), L4Timeout.FromMilliseconds(200));
        TimeSpan took = Stopwatch.GetElapsedTime(start);
        Assert.Equal(L4Status.ReceiveTimeout, late.Status);
        Assert.InRange(took.TotalMilliseconds, 190, 590);

        // After the slow reply is refused, the next call is served normally (the late outcome is not taken for it).
        Thread.Sleep(600);
        me.Utcb.Mr[0] = 5;
        IpcResult inTime = me.Call(svc, new MsgTag(SleepThenReply, 1), L4Timeout.FromSeconds(10));
        Assert.Equal(L4Status.Ok, inTime.Status);
        Assert.Equal(6UL, me.Utcb.Mr[0]);

        // A server that waits again without replying: ReplyDropped, as locally.
        Assert.Equal(L4Status.ReplyDropped, me.Call(svc, new MsgTag(Drop, 0), L4Timeout.FromSeconds(10)).Status);
        me.Utcb.Mr[0] = 1;
        Assert.Equal(L4Status.Ok, me.Call(svc, new MsgTag(Increment, 1), L4Timeout.FromSeconds(10)).Status);
    }

    [Fact]
    public async Task ServerKilledMidCall_GivesDestinationDeleted_AndTheNameComesBackWithANewServer()
    {
        using BridgeHosts hosts = new();
        await using L4Task client = await hosts.A.ConnectAsync("client");
        Gate svc = await client.Names.QueryAsync<Gate>("b/svc", TimeSpan.FromSeconds(30));
        using L4Thread me = new();
        Task<IpcResult> held = Task.Run(() => me.Call(svc, new MsgTag(Hold, 0), L4Timeout.Never));
        hosts.Server!.WaitForLine("HOLD", 10_000);
        long killed = hosts.Server.Kill();
        IpcResult r = await held.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(L4Status.DestinationDeleted, r.Status);
        output.WriteLine($"server SIGKILL → DestinationDeleted at A after {Stopwatch.GetElapsedTime(killed).TotalMilliseconds:0.0} ms");

        // As after a local server's restart: the old gate stays dead, the name finds the new server.
        Assert.Equal(L4Status.DestinationDeleted, me.Call(svc, new MsgTag(Increment, 1), L4Timeout.FromSeconds(5)).Status);
        hosts.StartServer();
        Gate again = await client.Names.QueryAsync<Gate>("b/svc", TimeSpan.FromSeconds(30));
        me.Utcb.Mr[0] = 9;
        IpcResult served = me.Call(again, new MsgTag(Increment, 1), L4Timeout.FromSeconds(10));
        if (served.Status == L4Status.DestinationDeleted)
        {
            // The name may still have named the old import for a moment: query once more.
            again = await client.Names.QueryAsync<Gate>("b/svc", TimeSpan.FromSeconds(30));
            served = me.Call(again, new MsgTag(Increment, 1), L4Timeout.FromSeconds(10));
        }

        Assert.Equal(L4Status.Ok, served.Status);
        Assert.Equal(10UL, me.Utcb.Mr[0]);
    }

    [Fact]
    public async Task ExportingBridgeKilled_GivesDestinationDeleted_WithinTheDetectionTime()
    {
        using BridgeHosts hosts = new(detection: TimeSpan.FromSeconds(1));
        await using L4Task client = await hosts.A.ConnectAsync("client");
        Gate svc = await client.Names.QueryAsync<Gate>("b/svc", TimeSpan.FromSeconds(30));
        using L4Thread me = new();
        Task<IpcResult> held = Task.Run(() => me.Call(svc, new MsgTag(Hold, 0), L4Timeout.Never));
        hosts.Server!.WaitForLine("HOLD", 10_000);
        long killed = hosts.Bridge("b").Kill();
        IpcResult r = await held.WaitAsync(TimeSpan.FromSeconds(10));
        double ms = Stopwatch.GetElapsedTime(killed).TotalMilliseconds;
        Assert.Equal(L4Status.DestinationDeleted, r.Status);
        Assert.True(ms < hosts.Detection.TotalMilliseconds + 500, $"DestinationDeleted came {ms:0} ms after the kill (detection time {hosts.Detection.TotalMilliseconds} ms)");
        output.WriteLine($"exporting bridge SIGKILL → DestinationDeleted at A after {ms:0.0} ms");

        // The imported names leave A's name service while the peer is gone.
        await Assert.ThrowsAsync<L4RtException>(() => client.Names.QueryAsync<Gate>("b/svc", TimeSpan.Zero));
    }

    [Fact]
    public async Task NamesNotExported_AndPeersWithoutATrustedCertificate_GetNothing()
    {
        using BridgeHosts hosts = new();
        await using L4Task client = await hosts.A.ConnectAsync("client");
        await client.Names.QueryAsync<Gate>("b/svc", TimeSpan.FromSeconds(30)); // the link is up and imports work

        // Not exported at all, and exported only to another peer: never registered at A.
        L4RtException none = await Assert.ThrowsAsync<L4RtException>(() => client.Names.QueryAsync<Gate>("b/not-exported", TimeSpan.FromMilliseconds(1500)));
        Assert.Equal(L4Status.NameNotFound, none.Status);
        L4RtException other = await Assert.ThrowsAsync<L4RtException>(() => client.Names.QueryAsync<Gate>("b/only-for-c", TimeSpan.FromMilliseconds(200)));
        Assert.Equal(L4Status.NameNotFound, other.Status);

        // A bridge whose certificate a CA nobody trusts signed, with the CN of an allowed peer: refused at the TLS handshake.
        using BrokerProcess third = new();
        var intruder = hosts.StartBridge("a", third.SocketPath, new
        {
            Imports = new object[] { new { Peer = "b", Address = $"https://127.0.0.1:{hosts.PortB}", Remote = "svc", Local = "stolen" } },
        }, intruder: true);
        await using L4Task thief = await third.ConnectAsync("thief");
        L4RtException stolen = await Assert.ThrowsAsync<L4RtException>(() => thief.Names.QueryAsync<Gate>("stolen", TimeSpan.FromSeconds(3)));
        Assert.Equal(L4Status.NameNotFound, stolen.Status);
        Assert.Contains("is down", intruder.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Channels_StreamThroughTheBridges_BothWays_InOrder_WithBackPressureAndCompletion()
    {
        using BridgeHosts hosts = new();
        await using L4Task atB = await hosts.B.ConnectAsync("b-side");
        await using L4Task atA = await hosts.A.ConnectAsync("a-side");
        CapRights both = CapRights.Send | CapRights.Map | CapRights.Read | CapRights.Write;

        // A → B: a producer at A writes into the imported "b/feed"; the consumer of the real channel at B reads.
        Channel feed = await atB.Factory.CreateChannelAsync(1 << 16);
        using ChannelConsumer atBReads = await feed.OpenConsumerAsync();
        await atB.Names.RegisterAsync("feed", feed, both);
        Channel feedAtA = await atA.Names.QueryAsync<Channel>("b/feed", TimeSpan.FromSeconds(30));
        using ChannelProducer atAWrites = await feedAtA.OpenProducerAsync();
        const int Records = 3000; // ~6 MB through 64 KiB rings on both hosts: the writer must wait for the far reader
        Task<int> reading = Task.Run(() => ReadAll(atBReads, Records));
        byte[] record = new byte[4096];
        for (int i = 0; i < Records; i++)
        {
            int length = Fill(record, i);
            Assert.Equal(L4Status.Ok, await atAWrites.WriteAsync(record.AsMemory(0, length)));
        }

        Assert.Equal(L4Status.Ok, atAWrites.Complete(L4Timeout.FromSeconds(10)));
        Assert.Equal(Records, await reading.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(atBReads.IsCompleted, "the completion travelled as a completion, not as a death");

        // B → A: a producer at B writes into the real "news"; a consumer of the imported "b/news" at A reads.
        Channel news = await atB.Factory.CreateChannelAsync(1 << 16);
        using ChannelProducer atBWrites = await news.OpenProducerAsync();
        await atB.Names.RegisterAsync("news", news, both);
        Channel newsAtA = await atA.Names.QueryAsync<Channel>("b/news", TimeSpan.FromSeconds(30));
        using ChannelConsumer atAReads = await newsAtA.OpenConsumerAsync();
        Task<int> readingAtA = Task.Run(() => ReadAll(atAReads, 500));
        for (int i = 0; i < 500; i++)
        {
            int length = Fill(record, i);
            Assert.Equal(L4Status.Ok, await atBWrites.WriteAsync(record.AsMemory(0, length)));
        }

        Assert.Equal(L4Status.Ok, atBWrites.Complete(L4Timeout.FromSeconds(10)));
        Assert.Equal(500, await readingAtA.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(atAReads.IsCompleted);
    }

    /// <summary>Record <paramref name="i"/>: 1..4000 bytes, each a function of its index and position.</summary>
    private static int Fill(byte[] record, int i)
    {
        int length = 1 + ((i * 7919) % 4000);
        for (int j = 0; j < length; j++)
        {
            record[j] = (byte)((i * 31) + j);
        }

        return length;
    }

    /// <summary>Reads until the stream ends, checking each record's content and order; returns how many came.</summary>
    private static int ReadAll(ChannelConsumer consumer, int expected)
    {
        byte[] buffer = new byte[4096], want = new byte[4096];
        int count = 0;
        while (true)
        {
            L4Status status = consumer.Read(buffer, L4Timeout.FromSeconds(20), out int length);
            if (status != L4Status.Ok)
            {
                Assert.Equal(L4Status.DestinationDeleted, status);
                return count;
            }

            int wantLength = Fill(want, count);
            Assert.True(length == wantLength && buffer.AsSpan(0, length).SequenceEqual(want.AsSpan(0, wantLength)), $"record {count} of {expected} differs ({length} bytes, {wantLength} expected)");
            count++;
        }
    }
}
