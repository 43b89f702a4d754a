using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>
/// Typed items in replies, between real processes: a server answers a call with a capability or a flexpage, which lands
/// in the caller's buffer registers; a caller without room, a replier without the right and a forged reply each fail
/// clearly, and nothing half arrives.
/// </summary>
[Collection(ProcessCollection.Name)]
public class ReplyItemTests
{
    private const long Page = ProtocolLimits.PageSize;
    private static readonly L4Timeout s_timeout = L4Timeout.FromMilliseconds(10_000);

    [Fact]
    public async Task ReplyWithMappedGate_ArrivesInTheCallersReceiveSlot_WithReducedRights_AndWorks()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        using ChildProcess b = ChildProcess.Start("task-items", broker.SocketPath, "items/b", "none", "recv-reply", "gate:Send", "recv");
        b.WaitForLine("READY");
        Gate toB = await a.Names.QueryAsync<Gate>("items/b", TimeSpan.Zero);
        using L4Thread me = new();
        me.Utcb.SetReceiveBuffers(1);

        me.Utcb.Mr[0] = 6;
        IpcResult reply = me.Call(toB, new MsgTag(0, words: 1), s_timeout);

        Assert.Equal(L4Status.Ok, reply.Status);
        Assert.Equal((1, 1), (reply.Tag.Words, reply.Tag.Items));
        Assert.Equal(7UL, me.Utcb.Mr[0]);
        Assert.Equal("REPLIED Ok", b.WaitForLine("REPLIED"));
        MsgItem item = MsgItem.FromRegisters(me.Utcb.Mr[1], me.Utcb.Mr[2]);
        Gate received = me.GetReceivedCapability<Gate>(0);
        Assert.Equal((MsgItemKind.Object, received.Slot, CapRights.Send), (item.Kind, item.Slot, received.Rights)); // Map and the rest dropped
        Assert.Equal(CapRights.Send, (await a.GetCapabilityAsync(received.Slot)).Rights); // the broker installed it in a

        // The gate B replied with is B's own: a call through it reaches B's thread (its "recv" step adds 1 to the sum).
        using L4Thread other = new();
        other.Utcb.Mr[0] = 41;
        IpcResult through = other.Call(received, new MsgTag(0, words: 1), s_timeout);
        Assert.Equal((L4Status.Ok, 42UL), (through.Status, other.Utcb.Mr[0]));
        b.WaitForLine("DONE");
    }

    [Fact]
    public async Task ReplyWithFlexpage_MapsTheServersPagesIntoTheCallersWindow()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        using ChildProcess b = ChildProcess.Start("task-items", broker.SocketPath, "items/b", "none", "recv-reply", "flexpage:from-the-server", "sleep", "60000");
        b.WaitForLine("READY");
        Gate toB = await a.Names.QueryAsync<Gate>("items/b", TimeSpan.Zero);
        using ReceiveWindow window = a.CreateReceiveWindow(4 * Page);
        using L4Thread me = new();
        me.Utcb.SetReceiveBuffers(0, window);

        me.Utcb.Mr[0] = 1;
        IpcResult reply = me.Call(toB, new MsgTag(0, words: 1), s_timeout);

        Assert.Equal((L4Status.Ok, 1), (reply.Status, reply.Tag.Items));
        Assert.Equal("REPLIED Ok", b.WaitForLine("REPLIED"));
        using DataspaceMapping mapping = me.GetReceivedMapping(0);
        Assert.True(mapping.ReadOnlySpan[..15].SequenceEqual("from-the-server"u8));
        Assert.True(mapping.IsWritable);
        Assert.Equal(3 * Page, window.Available);
        Assert.Equal(L4Status.Ok, mapping.Write(100, "and-back"u8)); // read-write, as the server mapped it
        using JsonDocument status = JsonDocument.Parse(await a.GetBrokerStatusJsonAsync());
        JsonElement mine = status.RootElement.GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "a");
        Assert.Equal(1, mine.GetProperty("receivedFlexpages").GetInt32());
    }

    [Fact]
    public async Task ReplyWithItems_ToACallerWithoutReceiveBuffers_FailsTheCallWithNoReceiveBuffer_WordsThere_NothingInstalled()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        using ChildProcess b = ChildProcess.Start("task-items", broker.SocketPath, "items/b", "none", "recv-reply", "gate:Send", "recv-reply", "flexpage:x", "recv");
        b.WaitForLine("READY");
        Gate toB = await a.Names.QueryAsync<Gate>("items/b", TimeSpan.Zero);
        int before = await CapabilityCountAsync(a, "a");
        using L4Thread me = new(); // no buffer registers at all

        me.Utcb.Mr[0] = 10;
        IpcResult capability = me.Call(toB, new MsgTag(0, words: 1), s_timeout);
        Assert.Equal(L4Status.NoReceiveBuffer, capability.Status);
        Assert.Equal(11UL, me.Utcb.Mr[0]); // the words arrived all the same
        Assert.Equal("REPLIED Ok", b.WaitForLine("REPLIED")); // a reply never blocks: the server learns nothing of it

        me.Utcb.SetReceiveBuffers(1); // room for a capability, none for a flexpage
        me.Utcb.Mr[0] = 20;
        Assert.Equal(L4Status.NoReceiveBuffer, me.Call(toB, new MsgTag(0, words: 1), s_timeout).Status);
        Assert.Equal(before, await CapabilityCountAsync(a, "a"));

        // The link and the broker serve on: a plain call afterwards.
        me.Utcb.Mr[0] = 30;
        Assert.Equal((L4Status.Ok, 31UL), (me.Call(toB, new MsgTag(0, words: 1), s_timeout).Status, me.Utcb.Mr[0]));
    }

    [Fact]
    public async Task ReplyItemTheServerMayNotMap_IsRefusedToTheServer_NotPosted_TheCallerSeesReplyDropped()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        using ChildProcess b = ChildProcess.Start("task-items", broker.SocketPath, "items/b", "none", "recv-reply", "unmappable", "recv");
        b.WaitForLine("READY");
        Gate toB = await a.Names.QueryAsync<Gate>("items/b", TimeSpan.Zero);
        using L4Thread me = new();
        me.Utcb.SetReceiveBuffers(1);

        me.Utcb.Mr[0] = 1;
        Assert.Equal(L4Status.ReplyDropped, me.Call(toB, new MsgTag(0, words: 1), s_timeout).Status);
        Assert.Equal("REPLIED NoRights kept:True then:ReceiveTimeout", b.WaitForLine("REPLIED"));
        me.Utcb.Mr[0] = 5;
        Assert.Equal((L4Status.Ok, 6UL), (me.Call(toB, new MsgTag(0, words: 1), s_timeout).Status, me.Utcb.Mr[0]));
    }

    [Fact]
    public async Task ForgedReplyItems_NotOfferedAtTheBroker_FailTheCallWithProtocolViolation_NothingArrives()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        using L4Thread server = await a.CreateThreadAsync();
        Gate gate = await a.Factory.CreateGateAsync(server, 3);
        server.ItemTransfer = new ItemTests.SkipTheBroker(); // a replier that counts an item in the tag and never offers it
        Thread serving = new(() =>
        {
            IpcResult msg = server.Wait(s_timeout);
            if (msg.IsOk)
            {
                MsgItem.Map(gate).WriteTo(server.Utcb.Mr[1..]);
                server.Reply(new MsgTag(0, words: 1, items: 1));
            }
        }) { IsBackground = true };
        serving.Start();
        int before = await CapabilityCountAsync(a, "a");
        using L4Thread me = new();
        me.Utcb.SetReceiveBuffers(1);

        IpcResult reply = me.Call(gate, new MsgTag(0, words: 1), s_timeout);

        Assert.Equal(L4Status.ProtocolViolation, reply.Status);
        Assert.Throws<InvalidOperationException>(() => me.GetReceivedCapability(0));
        Assert.Equal(before, await CapabilityCountAsync(a, "a"));
        Assert.True(serving.Join(10_000));
    }

    private static async Task<int> CapabilityCountAsync(L4Task task, string name)
    {
        using JsonDocument status = JsonDocument.Parse(await task.GetBrokerStatusJsonAsync());
        JsonElement mine = status.RootElement.GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("name").GetString() == name);
        return mine.GetProperty("capabilities").GetInt32();
    }
}
