using System.Runtime.InteropServices;
using System.Text;
using L4Rt.Interop;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Microsoft.Win32.SafeHandles;
using Msg = L4Rt.Protocol.Messages;

namespace L4Rt.Tests.Messages;

/// <summary>
/// Pure units: every control message reads back what it wrote (fields and descriptors), and refuses a payload
/// one byte short, one byte long, or with the wrong number of descriptors.
/// </summary>
public class MessageRoundTripTests
{
    /// <summary>Each message with plain fields, as a sample value; records compare by value.</summary>
    public static TheoryData<string> PlainMessages => [.. s_plain.Keys];

    private static readonly Dictionary<string, Func<(byte[] Payload, Func<byte[], List<SafeFdHandle>, object> Read, object Sample)>> s_plain = new()
    {
        ["Hello.Request"] = () => Case(new Msg.Hello.Request(ProtocolLimits.ProtocolVersion, "svc")),
        ["Hello.Reply"] = () => Case(new Msg.Hello.Reply(3, 0, 1, 2, 4242)),
        ["CreateThread.Reply"] = () => Case(new Msg.CreateThread.Reply(5, 77)),
        ["CreateGate.Request"] = () => Case(new Msg.CreateGate.Request(1, 4, ulong.MaxValue)),
        ["CreateIrq.Request"] = () => Case(new Msg.CreateIrq.Request(1, 4, 9)),
        ["CreateFactory.Request"] = () => Case(new Msg.CreateFactory.Request(1, 1L << 40, 17)),
        ["FactoryUsage.Request"] = () => Case(new Msg.FactoryUsage.Request(1)),
        ["FactoryUsage.Reply"] = () => Case(new Msg.FactoryUsage.Reply(1L << 28, 4096, 4096, 3, 256, 2)),
        ["CreateChannel.Request"] = () => Case(new Msg.CreateChannel.Request(1, 1 << 20)),
        ["GateLink.Request"] = () => Case(new Msg.GateLink.Request(6)),
        ["LinkClose.Request"] = () => Case(new Msg.LinkClose.Request(long.MaxValue)),
        ["IrqAttach.Request"] = () => Case(new Msg.IrqAttach.Request(8)),
        ["IrqTrigger.Request"] = () => Case(new Msg.IrqTrigger.Request(8)),
        ["ChannelAttach.Request"] = () => Case(new Msg.ChannelAttach.Request(9, 1)),
        ["Map.Request"] = () => Case(new Msg.Map.Request(3, 0, CapRights.Send | CapRights.Map)),
        ["Delete.Request"] = () => Case(new Msg.Delete.Request(3)),
        ["CapInfo.Request"] = () => Case(new Msg.CapInfo.Request(3)),
        ["CapInfo.Reply"] = () => Case(new Msg.CapInfo.Reply(CapKind.Gate, CapRights.All)),
        ["NameRegister.Request"] = () => Case(new Msg.NameRegister.Request(2, 5, CapRights.Send, "media/video")),
        ["NameQuery.Request"] = () => Case(new Msg.NameQuery.Request(2, -1, "media/video")),
        ["NameQuery.Reply"] = () => Case(new Msg.NameQuery.Reply(11, CapKind.Channel, CapRights.Send)),
        ["NameUnregister.Request"] = () => Case(new Msg.NameUnregister.Request(2, "media/video")),
        ["NameList.Request"] = () => Case(new Msg.NameList.Request(2, "a/b")),
        ["Status.Request"] = () => Case(new Msg.Status.Request(7, 65_000)),
        ["EndpointClosed.Notification"] = () => Case(new Msg.EndpointClosed.Notification(4, 63)),
        ["SlotReply"] = () => Case(new SlotReply(12)),
        ["Cancel.Request"] = () => Case(new Msg.Cancel.Request(41)),
        ["CreateDataspace.Request"] = () => Case(new Msg.CreateDataspace.Request(1, 1L << 30)),
        ["DataspaceAttach.Request"] = () => Case(new Msg.DataspaceAttach.Request(9, 1)),
        ["CreatePagedDataspace.Request"] = () => Case(new Msg.CreatePagedDataspace.Request(1, 1L << 30, 4, ulong.MaxValue, 250)),
        ["DataspaceRevoked.Notification"] = () => Case(new Msg.DataspaceRevoked.Notification(long.MaxValue)),
    };

    [Theory]
    [MemberData(nameof(PlainMessages))]
    public void PlainMessage_RoundTrips_AndRefusesShortLongOrDescriptors(string name)
    {
        (byte[] payload, Func<byte[], List<SafeFdHandle>, object> read, object sample) = s_plain[name]();
        Assert.Equal(sample, read(payload, []));
        if (payload.Length > 0)
        {
            AssertViolation(() => read(payload[..^1], []));
        }

        AssertViolation(() => read([.. payload, 0], []));
        using SafeFileHandle extra = Libc.Memfd.Create("extra");
        AssertViolation(() => read(payload, [new SafeFdHandle((int)extra.DangerousGetHandle(), ownsHandle: false)]));
    }

    [Fact]
    public void Empty_RoundTrips_AndRefusesBytes()
    {
        Assert.Equal(default, Read<Empty>(Write(default(Empty)), []));
        AssertViolation(() => Read<Empty>([1], []));
    }

    [Fact]
    public void MessagesWithDescriptors_TakeThemInOrder_AndRefuseAWrongCount()
    {
        AssertCarries(h => new Msg.CreateThread.Request(1, h[0]), 1, (m, fds) => Assert.Equal(fds[0], Raw(m.Doorbell)));
        AssertCarries(h => new Msg.GateLink.Reply(99, h[0], h[1]), 2, (m, fds) =>
        {
            Assert.Equal(99, m.LinkId);
            Assert.Equal([fds[0], fds[1]], new[] { Raw(m.Region), Raw(m.Doorbell) });
        });
        AssertCarries(h => new Msg.IrqAttach.Reply(h[0], h[1]), 2, (m, fds) => Assert.Equal([fds[0], fds[1]], new[] { Raw(m.Region), Raw(m.Doorbell) }));
        AssertCarries(h => new Msg.ChannelAttach.Reply(1 << 16, h[0]), 1, (m, fds) => Assert.Equal((1 << 16, fds[0]), (m.Capacity, Raw(m.Ring))));
        AssertCarries(h => new Msg.DataspaceAttach.Reply(1 << 20, 77, h[0]), 1, (m, fds) => Assert.Equal((1 << 20, 77L, fds[0], -1), (m.Size, m.Token, Raw(m.Memory), m.PagerSlot)));
        AssertCarries(h => new Msg.DataspaceAttach.Reply(1 << 20, 78, h[0], 9, ulong.MaxValue, 250), 1, (m, fds) =>
            Assert.Equal((1 << 20, 78L, fds[0], 9, ulong.MaxValue, 250), (m.Size, m.Token, Raw(m.Memory), m.PagerSlot, m.PagerId, m.FaultTimeoutMs)));
        AssertCarries(h => new Msg.NewLink.Notification(3, 5, 0xABCD, h[0]), 1, (m, fds) => Assert.Equal((3, 5, 0xABCDUL, fds[0]), (m.ThreadId, m.Index, m.Label, Raw(m.Region))));
        AssertCarries(h => new Msg.NewIrq.Notification(3, 6, 7, h[0]), 1, (m, fds) => Assert.Equal((3, 6, 7UL, fds[0]), (m.ThreadId, m.Index, m.Label, Raw(m.Region))));
    }

    [Fact]
    public void NameListReply_RoundTrips_AndAFullPageFitsOneFrame()
    {
        List<Msg.NameList.Entry> entries = [];
        int budget = Msg.NameList.EntryBudget;
        for (int i = 0; ; i++)
        {
            string name = $"n/{i:D5}/".PadRight(ProtocolLimits.MaxNameLength, 'x');
            if (Msg.NameList.EntrySize(name) > budget)
            {
                break;
            }

            budget -= Msg.NameList.EntrySize(name);
            entries.Add(new(name, CapKind.Gate, CapRights.Send | CapRights.Map, i));
        }

        byte[] payload = Write(new Msg.NameList.Reply(10_000, entries, More: true));
        Assert.True(FrameHeader.Size + payload.Length <= ProtocolLimits.MaxFrameSize);
        Assert.True(FrameHeader.Size + payload.Length > ProtocolLimits.MaxFrameSize - Msg.NameList.EntrySize(entries[0].Name));
        Msg.NameList.Reply read = Read<Msg.NameList.Reply>(payload, []);
        Assert.Equal((10_000, true), (read.Total, read.More));
        Assert.Equal(entries, read.Entries);
        AssertViolation(() => Read<Msg.NameList.Reply>(payload[..^1], []));
    }

    [Fact]
    public void NameListReply_HostileCount_IsRefusedBeforeAllocating()
    {
        byte[] payload = new Payload().Int32(1).Int32(int.MaxValue).Byte(0).Span.ToArray();
        AssertViolation(() => Read<Msg.NameList.Reply>(payload, []));
    }

    [Fact]
    public void StatusReply_RoundTrips()
    {
        byte[] chunk = Encoding.UTF8.GetBytes("{\"tasks\":[]}");
        Msg.Status.Reply read = Read<Msg.Status.Reply>(Write(new Msg.Status.Reply(7, 100, chunk)), []);
        Assert.Equal((7u, 100), (read.Snapshot, read.Total));
        Assert.Equal(chunk, read.Chunk.ToArray());
    }

    [Fact]
    public void Strings_OverTheirLimit_AreRefusedByTheLengthPrefix()
    {
        byte[] longName = new Payload().Int32(2).Int32(0).UInt32(0).String(new string('n', 300)).Span.ToArray();
        L4RtException e = Assert.Throws<L4RtException>(() => Read<Msg.NameRegister.Request>(longName, []));
        Assert.Equal("a name is 300 bytes; at most 128 are allowed", e.Message);
        byte[] longTask = new Payload().UInt32(2).String(new string('t', 65)).Span.ToArray();
        Assert.Contains("the task name is 65 bytes; at most 64", Assert.Throws<L4RtException>(() => Read<Msg.Hello.Request>(longTask, [])).Message, StringComparison.Ordinal);
        string cut = Read<Msg.Hello.Request>(Write(new Msg.Hello.Request(2, new string('t', 200))), []).Name; // the SDK cuts a long task name
        Assert.True(Encoding.UTF8.GetByteCount(cut) <= ProtocolLimits.MaxTaskNameLength && cut.EndsWith('…'), cut);
    }

    [Theory]
    [InlineData("plain ascii text that is long enough to be cut somewhere in the middle", 20)]
    [InlineData("ééééééééééééééééééééééééééééé", 11)]
    [InlineData("😀😀😀😀😀😀😀😀😀😀", 13)]
    public void BoundedString_IsCutAtACharacterBoundary_WithinTheLimit(string value, int maxBytes)
    {
        FrameReader reader = new(new Payload().String(value, maxBytes).Span);
        string read = reader.ReadString(maxBytes, "s");
        Assert.True(Encoding.UTF8.GetByteCount(read) <= maxBytes);
        Assert.EndsWith("…", read, StringComparison.Ordinal);
        Assert.StartsWith(read[..^1], value, StringComparison.Ordinal);
    }

    private static (byte[], Func<byte[], List<SafeFdHandle>, object>, object) Case<T>(T message)
        where T : IControlMessage<T> => (Write(message), (bytes, fds) => Read<T>(bytes, fds), message);

    private static byte[] Write<T>(T message)
        where T : IControlMessage<T>
    {
        Payload payload = new();
        message.Write(payload);
        return payload.Span.ToArray();
    }

    private static T Read<T>(byte[] payload, List<SafeFdHandle> fds)
        where T : IControlMessage<T>
    {
        FrameReader reader = new(payload);
        return T.Read(ref reader, fds);
    }

    private static void AssertViolation(Func<object> read) =>
        Assert.Equal(L4Status.ProtocolViolation, Assert.Throws<L4RtException>(read).Status);

    private static int Raw(SafeHandle handle) => (int)handle.DangerousGetHandle();

    /// <summary>Writes a message carrying <paramref name="count"/> fresh memfds, reads it back with them, and with one too few and one too many.</summary>
    private static void AssertCarries<T>(Func<SafeFileHandle[], T> make, int count, Action<T, int[]> check)
        where T : IControlMessage<T>
    {
        SafeFileHandle[] sent = [.. Enumerable.Range(0, count).Select(i => Libc.Memfd.Create("m" + i))];
        T message = make(sent);
        Assert.Equal(sent.Select(Raw), message.Fds.Select(Raw));
        byte[] payload = Write(message);
        int[] raw = [.. sent.Select(Raw)];
        List<SafeFdHandle> fewer = [.. raw.Skip(1).Select(fd => new SafeFdHandle(fd, ownsHandle: false))];
        AssertViolation(() => Read<T>(payload, fewer));
        List<SafeFdHandle> more = [.. raw.Append(raw[0]).Select(fd => new SafeFdHandle(fd, ownsHandle: false))];
        AssertViolation(() => Read<T>(payload, more));
        foreach (SafeFileHandle handle in sent)
        {
            handle.SetHandleAsInvalid(); // ownership passes to the received list, as after recvmsg
        }

        List<SafeFdHandle> received = [.. raw.Select(fd => new SafeFdHandle(fd))];
        T read = Read<T>(payload, received);
        Assert.Empty(received); // taken, not left for the caller to close
        check(read, raw);
        foreach (SafeHandle handle in read.Fds)
        {
            handle.Dispose();
        }
    }
}
