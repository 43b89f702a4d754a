using System.Runtime.CompilerServices;
using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;
using L4Rt.TestChild;

namespace L4Rt.Tests.Broker;

/// <summary>Typed items in messages, between real processes: capabilities mapped and granted, flexpages, refusals, forgeries.</summary>
[Collection(ProcessCollection.Name)]
public class ItemTests
{
    private const long Page = ProtocolLimits.PageSize;
    private static readonly L4Timeout s_timeout = L4Timeout.FromMilliseconds(10_000);

    [Fact]
    public async Task CallWithMappedGate_ArrivesWithReducedRights_WorksThere_AndTheCallGetsItsReply()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        using TaskEcho echo = await TaskEcho.StartAsync(a); // adds 1 to MR0
        using ChildProcess b = ChildProcess.Start("task-items", broker.SocketPath, "items/b", "caps:1", "recv", "call-item", "0", "41");
        b.WaitForLine("READY");
        Gate toB = await a.Names.QueryAsync<Gate>("items/b", TimeSpan.Zero);

        using L4Thread me = new();
        me.Utcb.Mr[0] = 3;
        me.Utcb.Mr[1] = 4;
        MsgItem.Map(echo.Gate, CapRights.Send).WriteTo(me.Utcb.Mr[2..]);
        IpcResult reply = me.Call(toB, new MsgTag(0, words: 2, items: 1), s_timeout);

        Assert.Equal(L4Status.Ok, reply.Status);
        Assert.Equal(8UL, me.Utcb.Mr[0]); // 3 + 4 + 1: the words arrived with the item
        Assert.Equal("GOT label:5 words:3,4 items:1", b.WaitForLine("GOT"));
        Assert.Equal("ITEM 0 Gate rights:Send slot-matches:True grant:False", b.WaitForLine("ITEM")); // Map and the rest dropped
        Assert.Equal("CALLED Ok 42", b.WaitForLine("CALLED")); // the mapped gate works in B
        Assert.Equal(CapRights.All, (await a.GetCapabilityAsync(echo.Gate.Slot)).Rights); // a map leaves the sender's capability as it was
    }

    [Fact]
    public async Task Grant_MovesTheCapability_TheSenderNoLongerHoldsIt()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        using TaskEcho echo = await TaskEcho.StartAsync(a);
        Gate lent = new(a, await echo.Gate.MapToAsync(a.Self, CapRights.Send | CapRights.Grant), CapRights.Send | CapRights.Grant);
        using ChildProcess b = ChildProcess.Start("task-items", broker.SocketPath, "items/b", "caps:1", "recv", "call-item", "0", "9");
        b.WaitForLine("READY");
        Gate toB = await a.Names.QueryAsync<Gate>("items/b", TimeSpan.Zero);

        using L4Thread me = new();
        MsgItem.Grant(lent).WriteTo(me.Utcb.Mr);
        Assert.Equal(L4Status.Ok, me.Send(toB, new MsgTag(0, items: 1), s_timeout).Status);

        Assert.Equal("ITEM 0 Gate rights:Send, Grant slot-matches:True grant:True", b.WaitForLine("ITEM"));
        Assert.Equal("CALLED Ok 10", b.WaitForLine("CALLED"));
        Assert.Equal(L4Status.InvalidCapability, (await Assert.ThrowsAsync<L4RtException>(() => a.GetCapabilityAsync(lent.Slot))).Status);
    }

    [Fact]
    public async Task ChainAToBToC_RevokedAtA_RemovedFromBAndC_CsNextUseIsInvalidCapability()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        using TaskEcho echo = await TaskEcho.StartAsync(a);
        Gate lent = new(a, await echo.Gate.MapToAsync(a.Self, CapRights.Send | CapRights.Map), CapRights.Send | CapRights.Map);
        using ChildProcess c = ChildProcess.Start("task-items", broker.SocketPath, "items/c", "caps:1", "recv", "call-item", "0", "1", "sleep", "1500", "check-slot", "0", "call-item", "0", "2", "call-item-fresh", "0", "3");
        c.WaitForLine("READY");
        using ChildProcess b = ChildProcess.Start("task-items", broker.SocketPath, "items/b", "caps:1", "recv", "forward", "0", "items/c", "Send", "sleep", "1500", "check-slot", "0");
        b.WaitForLine("READY");
        Gate toB = await a.Names.QueryAsync<Gate>("items/b", TimeSpan.Zero);

        using L4Thread me = new();
        MsgItem.Map(lent).WriteTo(me.Utcb.Mr);
        Assert.Equal(L4Status.Ok, me.Send(toB, new MsgTag(0, items: 1), s_timeout).Status);
        Assert.Equal("FORWARDED Ok", b.WaitForLine("FORWARDED"));
        Assert.Equal("ITEM 0 Gate rights:Send slot-matches:True grant:False", c.WaitForLine("ITEM"));
        Assert.Equal("CALLED Ok 2", c.WaitForLine("CALLED")); // C uses it: a link through C's capability

        await lent.DeleteAsync(); // revoke at A: everything derived from the lent capability goes, A's own gate stays
        Assert.Equal("SLOT InvalidCapability", b.WaitForLine("SLOT"));
        Assert.Equal("SLOT InvalidCapability", c.WaitForLine("SLOT"));
        Assert.Equal("CALLED DestinationDeleted 0", c.WaitForLine("CALLED")); // the link opened through it ended with it
        Assert.Equal("CALLED InvalidCapability 0", c.WaitForLine("CALLED")); // and no new one is opened
        Assert.Equal(CapRights.All, (await a.GetCapabilityAsync(echo.Gate.Slot)).Rights);
    }

    [Fact]
    public async Task Flexpages_SharedByThreeProcesses_SamePages_ReadOnlyOneIsRefusedAWrite_AndSurvives()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        Dataspace dataspace = await a.Factory.CreateDataspaceAsync(4 * Page);
        using DataspaceMapping mine = await dataspace.MapAsync(CapRights.Write);
        "page-one"u8.CopyTo(mine.Span[(int)Page..]);
        using ChildProcess b = ChildProcess.Start("task-items", broker.SocketPath, "items/b", "window:65536", "recv", "write", "0", "100", "from-b", "expect", "0", "200", "from-a");
        using ChildProcess c = ChildProcess.Start("task-items", broker.SocketPath, "items/c", "window:65536", "recv", "try-write", "0", "expect", "0", "100", "from-b");
        b.WaitForLine("READY");
        c.WaitForLine("READY");

        using L4Thread me = new();
        MsgItem.Flexpage(dataspace, Page, 2 * Page, CapRights.Write).WriteTo(me.Utcb.Mr);
        Assert.Equal(L4Status.Ok, me.Send(await a.Names.QueryAsync<Gate>("items/b", TimeSpan.Zero), new MsgTag(0, items: 1), s_timeout).Status);
        MsgItem.Flexpage(dataspace, Page, 2 * Page, CapRights.Read).WriteTo(me.Utcb.Mr);
        Assert.Equal(L4Status.Ok, me.Send(await a.Names.QueryAsync<Gate>("items/c", TimeSpan.Zero), new MsgTag(0, items: 1), s_timeout).Status);

        string inode = DataspaceProbe.MappedInode(mine);
        Assert.Equal($"ITEM 0 memory length:{2 * Page} offset:{Page} writable:True text:page-one inode:{inode}", b.WaitForLine("ITEM"));
        Assert.Equal($"ITEM 0 memory length:{2 * Page} offset:{Page} writable:False text:page-one inode:{inode}", c.WaitForLine("ITEM"));
        Assert.Equal("REFUSED span:NoRights write:NoRights first:p", c.WaitForLine("REFUSED"));
        Assert.Equal("WROTE Ok", b.WaitForLine("WROTE"));
        Assert.Equal("SAW from-b", c.WaitForLine("SAW")); // B's write is read in C: the same physical pages, no copy
        Assert.True(SpinWait.SpinUntil(() => mine.ReadOnlySpan.Slice((int)Page + 100, 6).SequenceEqual("from-b"u8), TimeSpan.FromSeconds(10)));
        Assert.Equal(L4Status.Ok, mine.Write(Page + 200, "from-a"u8));
        Assert.Equal("SAW from-a", b.WaitForLine("SAW"));
        c.WaitForLine("DONE");
        Assert.True(c.WaitForExit(10_000));
        Assert.Equal(0, c.ExitCode); // the refused write did not hurt it
    }

    [Fact]
    public async Task NoReceiveBuffer_FailsForTheSender_AndDeliversNothing_WordsIncluded()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        using TaskEcho echo = await TaskEcho.StartAsync(a);
        Dataspace dataspace = await a.Factory.CreateDataspaceAsync(4 * Page);
        using ChildProcess b = ChildProcess.Start("task-items", broker.SocketPath, "items/b", "caps:1+window:4096", "recv");
        b.WaitForLine("READY");
        Gate toB = await a.Names.QueryAsync<Gate>("items/b", TimeSpan.Zero);
        using L4Thread me = new();

        // Two capabilities for one receive slot; a flexpage of two pages for a window of one.
        me.Utcb.Mr[0] = 1;
        MsgItem.Map(echo.Gate).WriteTo(me.Utcb.Mr[1..]);
        MsgItem.Map(dataspace).WriteTo(me.Utcb.Mr[3..]);
        Assert.Equal(L4Status.NoReceiveBuffer, me.Send(toB, new MsgTag(0, words: 1, items: 2), s_timeout).Status);
        me.Utcb.Mr[0] = 2;
        MsgItem.Flexpage(dataspace, 0, 2 * Page, CapRights.Read).WriteTo(me.Utcb.Mr[1..]);
        Assert.Equal(L4Status.NoReceiveBuffer, me.Call(toB, new MsgTag(0, words: 1, items: 1), s_timeout).Status);

        me.Utcb.Mr[0] = 99;
        Assert.Equal(L4Status.Ok, me.Send(toB, new MsgTag(0, words: 1), s_timeout).Status);
        Assert.Equal("GOT label:5 words:99 items:0", b.WaitForLine("GOT")); // the first message B ever got
        b.WaitForLine("DONE");
    }

    [Fact]
    public async Task SendWithItems_ToAReceiverThatNeverWaits_TimesOutAndIsWithdrawn_NeverDelivered()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        using TaskEcho echo = await TaskEcho.StartAsync(a);
        using ChildProcess b = ChildProcess.Start("task-items", broker.SocketPath, "items/b", "caps:2", "sleep", "1500", "recv", "recv");
        b.WaitForLine("READY");
        Gate toB = await a.Names.QueryAsync<Gate>("items/b", TimeSpan.Zero);
        using L4Thread me = new();
        me.Utcb.Mr[0] = 1;
        MsgItem.Map(echo.Gate).WriteTo(me.Utcb.Mr[1..]);
        Assert.Equal(L4Status.SendTimeout, me.Send(toB, new MsgTag(0, words: 1, items: 1), L4Timeout.FromMilliseconds(200)).Status);

        me.Utcb.Mr[0] = 2;
        MsgItem.Map(echo.Gate, CapRights.Send).WriteTo(me.Utcb.Mr[1..]);
        Assert.Equal(L4Status.Ok, me.Send(toB, new MsgTag(0, words: 1, items: 1), s_timeout).Status);
        Assert.Equal("GOT label:5 words:2 items:1", b.WaitForLine("GOT")); // the withdrawn one never arrives
        Assert.Equal("ITEM 0 Gate rights:Send slot-matches:True grant:False", b.WaitForLine("ITEM"));
        Assert.Equal("GOT ReceiveTimeout", b.WaitForLine("GOT"));
    }

    [Fact]
    public async Task ForgedItems_AreRefusedForTheSender_NeverHalfApplied_BrokerUnharmed()
    {
        using BrokerProcess broker = new();
        await using L4Task a = await broker.ConnectAsync("a");
        await using L4Task other = await broker.ConnectAsync("other");
        using TaskEcho echo = await TaskEcho.StartAsync(a);
        Dataspace dataspace = await a.Factory.CreateDataspaceAsync(2 * Page);
        Dataspace foreign = await other.Factory.CreateDataspaceAsync(Page * 16); // its slot number means nothing in a
        using ChildProcess b = ChildProcess.Start("task-items", broker.SocketPath, "items/b", "caps:8+window:1048576", "recv");
        b.WaitForLine("READY");
        Gate toB = await a.Names.QueryAsync<Gate>("items/b", TimeSpan.Zero);
        Gate revoked = new(a, await echo.Gate.MapToAsync(a.Self, CapRights.Send | CapRights.Map), CapRights.Send | CapRights.Map);
        await revoked.DeleteAsync(); // its slot stays empty: nothing is installed in a until the no-rights case below
        using L4Thread me = new();

        L4Status Send(int items, params (ulong First, ulong Second)[] raw)
        {
            me.Utcb.Mr[0] = 7;
            for (int i = 0; i < raw.Length; i++)
            {
                MsgItem.FromRegisters(raw[i].First, raw[i].Second).WriteTo(me.Utcb.Mr[(1 + (2 * i))..]);
            }

            return me.Send(toB, new MsgTag(0, words: 1, items: items), s_timeout).Status;
        }

        MsgItem good = MsgItem.Map(echo.Gate);
        (ulong, ulong) Raw(MsgItem item) => (item.First, item.Second);
        Assert.Equal(L4Status.InvalidCapability, Send(2, Raw(good), Raw(MsgItem.MapObject(4000, CapRights.All)))); // an empty slot, after a good item
        Assert.Equal(L4Status.InvalidCapability, Send(1, Raw(MsgItem.Map(revoked)))); // revoked
        Assert.Equal(L4Status.InvalidCapability, Send(1, Raw(MsgItem.MapMemory(foreign.Slot + 50, 0, Page, CapRights.Read)))); // another task's slot number
        Assert.Equal(L4Status.InvalidArgument, Send(1, Raw(MsgItem.Flexpage(dataspace, Page, 2 * Page, CapRights.Read)))); // past the end
        Assert.Equal(L4Status.InvalidArgument, Send(1, (good.First | 0x80, 0))); // reserved bits
        Assert.Equal(L4Status.InvalidArgument, Send(1, ((ulong)(uint)dataspace.Slot << 32 | 2 | (0x20 << 8), 0))); // a flexpage of 0 pages
        Assert.Equal(L4Status.InvalidArgument, Send(1, ((ulong)(uint)echo.Gate.Slot << 32 | 7, 0))); // an unknown kind
        Assert.Equal(L4Status.InvalidArgument, Send(2, Raw(MsgItem.Grant(echo.Gate)), Raw(MsgItem.Map(echo.Gate)))); // granted and mapped at once
        Assert.Equal(L4Status.InvalidArgument, Send(31)); // 31 zero items: every one malformed
        Assert.Equal(L4Status.NoRights, Send(1, Raw(MsgItem.Flexpage(new Dataspace(a, await dataspace.MapToAsync(a.Self, CapRights.Read | CapRights.Map), CapRights.Read | CapRights.Map), 0, Page, CapRights.Write))));

        // Counted in the tag, absent at the broker: a sender that skips the offer (as a hostile one would) is refused by the receiver.
        Assert.True(toB.TryGetLink(me, ref Unsafe.AsRef(in s_timeout), out SendLink link, out _));
        IItemTransfer honest = link.ItemTransfer!;
        link.ItemTransfer = new SkipTheBroker();
        try
        {
            Assert.Equal(L4Status.ProtocolViolation, Send(1, Raw(good)));
        }
        finally
        {
            link.ItemTransfer = honest;
        }

        // Nothing of the above arrived, nothing moved; the broker serves on.
        Assert.Equal(CapRights.All, (await a.GetCapabilityAsync(echo.Gate.Slot)).Rights);
        Assert.Equal(L4Status.Ok, Send(1, Raw(MsgItem.Map(echo.Gate, CapRights.Send))));
        Assert.Equal("GOT label:5 words:7 items:1", b.WaitForLine("GOT"));
        Assert.Equal("ITEM 0 Gate rights:Send slot-matches:True grant:False", b.WaitForLine("ITEM"));
        using JsonDocument status = JsonDocument.Parse(await a.GetBrokerStatusJsonAsync());
        Assert.Equal(3, status.RootElement.GetProperty("tasks").GetArrayLength());
    }

    [Fact]
    public async Task FlexpageReceived_ItsCreatorKilled_TheMappingIsRevokedHere_NoFault()
    {
        using BrokerProcess broker = new();
        await using L4Task me = await broker.ConnectAsync("receiver");
        using L4Thread thread = await me.CreateThreadAsync();
        Gate gate = await me.Factory.CreateGateAsync(thread, 3);
        await me.Names.RegisterAsync("items/me", gate);
        using ReceiveWindow window = me.CreateReceiveWindow(16 * Page);
        thread.Utcb.SetReceiveBuffers(0, window);
        using ChildProcess creator = ChildProcess.Start("task-items-flexpage", broker.SocketPath, "items/me", "lent-page");

        IpcResult msg = thread.Wait(s_timeout);
        Assert.Equal((L4Status.Ok, 1), (msg.Status, msg.Tag.Items));
        Assert.Equal("SENT Ok", creator.WaitForLine("SENT"));
        using (JsonDocument status = JsonDocument.Parse(await me.GetBrokerStatusJsonAsync()))
        {
            JsonElement mine = status.RootElement.GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "receiver");
            Assert.Equal(1, mine.GetProperty("receivedFlexpages").GetInt32()); // l4rt status shows it
        }

        DataspaceMapping mapping = thread.GetReceivedMapping(0);
        Assert.True(mapping.ReadOnlySpan[..9].SequenceEqual("lent-page"u8));
        Assert.Equal(15 * Page, window.Available); // one page of the window taken
        Span<byte> old = mapping.Span;

        creator.Kill(); // the documented rule: a dataspace dies with its creator, and every mapping of it is revoked
        Assert.True(SpinWait.SpinUntil(() => mapping.Status != L4Status.Ok, TimeSpan.FromSeconds(10)));
        Assert.Equal(L4Status.InvalidCapability, mapping.Status);
        Assert.Equal(-1, old.IndexOfAnyExcept((byte)0)); // zero pages at the same addresses: no fault
        mapping.Dispose();
        Assert.Equal(16 * Page, window.Available); // the window is free again
    }

    /// <summary>A sender (or replier) that posts items without offering them to the broker (the receiver must refuse the message).</summary>
    internal sealed class SkipTheBroker : IItemTransfer
    {
        public L4Status Offer(SendLink link, int seq, ReadOnlySpan<ulong> items) => L4Status.Ok;

        public bool Withdraw(SendLink link, int seq) => true;

        public L4Status Accept(L4Thread receiver, ReceiveLink link, int seq, MsgTag tag) => throw new InvalidOperationException("a sender never accepts");

        public L4Status OfferReply(L4Thread replier, ReceiveLink link, int seq, ReadOnlySpan<ulong> items) => L4Status.Ok;

        public L4Status AcceptReply(L4Thread caller, SendLink link, int seq, MsgTag tag) => throw new InvalidOperationException("a replier never accepts");
    }
}
