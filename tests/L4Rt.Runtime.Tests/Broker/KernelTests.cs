using L4Rt.Broker;
using L4Rt.Broker.Kernel;
using L4Rt.Interop;
using L4Rt.Memory;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using L4Rt.Tests.Support;
using Msg = L4Rt.Protocol.Messages;

namespace L4Rt.Tests.Broker;

/// <summary>
/// The kernel alone, behind its port: no socket, no session, no process. Requests go in as message types,
/// replies and notifications come out through a <see cref="RecordingPort"/> per task (<see cref="KernelHarness"/>).
/// </summary>
public sealed class KernelTests : IDisposable
{
    private readonly KernelHarness _harness = new(new BrokerOptions { TaskQuotaObjects = 8 });

    [Fact]
    public void GateNameQueryLink_AcrossTwoTasks_NotifiesTheReceiverAndRevokesOnDeath()
    {
        RecordingPort server = new(101);
        RecordingPort client = new(102);
        Msg.Hello.Reply s = Join(server);
        Msg.Hello.Reply c = Join(client);

        using DoorbellRegion doorbell = DoorbellRegion.Create();
        (Msg.CreateThread.Reply thread, SlotReply gate) = ThreadAndGate(server, s, doorbell);
        Ok<Empty>(server, new Msg.NameRegister.Request(s.NamespaceSlot, gate.Slot, CapRights.Send | CapRights.Map, "svc/echo"));

        Msg.NameQuery.Reply found = Ok<Msg.NameQuery.Reply>(client, new Msg.NameQuery.Request(c.NamespaceSlot, 0, "svc/echo"));
        Assert.Equal((CapKind.Gate, CapRights.Send | CapRights.Map), (found.Kind, found.Rights));
        Msg.GateLink.Reply link = Ok<Msg.GateLink.Reply>(client, new Msg.GateLink.Request(found.Slot));
        Assert.True(link.LinkId > 0);

        // The receiver learned of the link (with the label only it sees) and acknowledges it.
        (Opcode opcode, uint id, byte[] payload, int fds) = Assert.Single(server.Notifications);
        Assert.Equal((Opcode.NewLink, 1), (opcode, fds));
        FrameReader reader = new(payload);
        Msg.NewLink.Notification note = Msg.NewLink.Notification.Read(ref reader, [new SafeFdHandle(-1, ownsHandle: false)]);
        Assert.Equal((thread.ThreadId, 7UL), (note.ThreadId, note.Label));
        _harness.Kernel.CompleteAck(server, id, L4Status.Ok);

        // The server dies: its name goes, the client's capability is revoked.
        _harness.Kernel.TaskDisconnected(server);
        Assert.Equal(L4Status.NameNotFound, Error(client, new Msg.NameQuery.Request(c.NamespaceSlot, 0, "svc/echo")));
        Assert.Equal(L4Status.InvalidCapability, Error(client, new Msg.GateLink.Request(found.Slot)));
    }

    [Fact]
    public void Requests_BeforeHello_WrongSlots_AndQuota_AreRefusedWithTheirStatus()
    {
        RecordingPort port = new(103);
        Assert.Equal(L4Status.ProtocolViolation, Error(port, new Msg.FactoryUsage.Request(1)));
        Msg.Hello.Reply me = Join(port);
        Assert.Equal(L4Status.InvalidCapability, Error(port, new Msg.CreateGate.Request(99, 0, 1)));
        Assert.Equal(L4Status.InvalidCapability, Error(port, new Msg.CreateGate.Request(me.NamespaceSlot, 0, 1))); // a namespace is no factory
        for (int i = 0; i < 8; i++)
        {
            Ok<SlotReply>(port, new Msg.CreateFactory.Request(me.FactorySlot, 0, 0));
        }

        Assert.Equal(L4Status.QuotaExceeded, Error(port, new Msg.CreateFactory.Request(me.FactorySlot, 0, 0)));
        Msg.FactoryUsage.Reply usage = Ok<Msg.FactoryUsage.Reply>(port, new Msg.FactoryUsage.Request(me.FactorySlot));
        Assert.Equal((8, 8), (usage.QuotaObjects, usage.UsedObjects));
    }

    [Fact]
    public void PagedDataspace_CreationChecks_PagerCapabilityPerTask_BackingRules_RevocationReachesThePager()
    {
        RecordingPort creator = new(104);
        RecordingPort mapper = new(105);
        Msg.Hello.Reply a = Join(creator);
        Msg.Hello.Reply b = Join(mapper);
        using DoorbellRegion doorbell = DoorbellRegion.Create();
        (Msg.CreateThread.Reply thread, SlotReply gate) = ThreadAndGate(creator, a, doorbell);
        const long size = 16 * ProtocolLimits.PageSize;

        // Hostile or wrong fields: each refused with its status, nothing created.
        Assert.Equal(L4Status.InvalidArgument, Error(creator, new Msg.CreatePagedDataspace.Request(a.FactorySlot, size, gate.Slot, 1, 0)));
        Assert.Equal(L4Status.InvalidArgument, Error(creator, new Msg.CreatePagedDataspace.Request(a.FactorySlot, size, gate.Slot, 1, Msg.CreatePagedDataspace.MaxFaultTimeoutMs + 1)));
        Assert.Equal(L4Status.InvalidArgument, Error(creator, new Msg.CreatePagedDataspace.Request(a.FactorySlot, size + 1, gate.Slot, 1, 100)));
        Assert.Equal(L4Status.InvalidCapability, Error(creator, new Msg.CreatePagedDataspace.Request(a.FactorySlot, size, thread.Slot, 1, 100))); // a thread is no gate
        Assert.Equal(L4Status.InvalidCapability, Error(creator, new Msg.CreatePagedDataspace.Request(a.FactorySlot, size, 999, 1, 100)));

        SlotReply paged = Ok<SlotReply>(creator, new Msg.CreatePagedDataspace.Request(a.FactorySlot, size, gate.Slot, 0xFEED, 100));
        SlotReply plain = Ok<SlotReply>(creator, new Msg.CreateDataspace.Request(a.FactorySlot, size));
        Assert.Equal(L4Status.InvalidArgument, Error(creator, new Msg.DataspaceAttach.Request(plain.Slot, Msg.DataspaceAttach.Backing)));
        Assert.Equal(L4Status.ProtocolViolation, Error(creator, new Msg.DataspaceAttach.Request(paged.Slot, 3)));
        Msg.DataspaceAttach.Reply backing = Ok<Msg.DataspaceAttach.Reply>(creator, new Msg.DataspaceAttach.Request(paged.Slot, Msg.DataspaceAttach.Backing));
        Assert.Equal(-1, backing.PagerSlot); // a backing gets no pager capability
        Msg.DataspaceAttach.Reply ordinary = Ok<Msg.DataspaceAttach.Reply>(creator, new Msg.DataspaceAttach.Request(plain.Slot, Msg.DataspaceAttach.ReadOnly));
        Assert.Equal((-1, 0), (ordinary.PagerSlot, ordinary.FaultTimeoutMs));

        // Another task maps it (read-only, the capability from the name service): a send-only pager capability, one per task.
        Ok<Empty>(creator, new Msg.NameRegister.Request(a.NamespaceSlot, paged.Slot, CapRights.Read, "pg/k"));
        Msg.NameQuery.Reply found = Ok<Msg.NameQuery.Reply>(mapper, new Msg.NameQuery.Request(b.NamespaceSlot, 0, "pg/k"));
        Msg.DataspaceAttach.Reply first = Ok<Msg.DataspaceAttach.Reply>(mapper, new Msg.DataspaceAttach.Request(found.Slot, Msg.DataspaceAttach.ReadOnly));
        Msg.DataspaceAttach.Reply second = Ok<Msg.DataspaceAttach.Reply>(mapper, new Msg.DataspaceAttach.Request(found.Slot, Msg.DataspaceAttach.ReadOnly));
        Assert.Equal((0xFEEDUL, 100), (first.PagerId, first.FaultTimeoutMs));
        Assert.True(first.PagerSlot >= 0);
        Assert.Equal(first.PagerSlot, second.PagerSlot);
        Msg.CapInfo.Reply info = Ok<Msg.CapInfo.Reply>(mapper, new Msg.CapInfo.Request(first.PagerSlot));
        Assert.Equal((CapKind.Gate, CapRights.Send), (info.Kind, info.Rights));
        Assert.Equal(L4Status.NoRights, Error(mapper, new Msg.DataspaceAttach.Request(found.Slot, Msg.DataspaceAttach.Backing))); // backing needs Write

        // The creator deletes its gate: the pager capability derived from it goes, and a new mapping is refused.
        Ok<Empty>(creator, new Msg.Delete.Request(gate.Slot));
        Assert.Equal(L4Status.InvalidCapability, Error(mapper, new Msg.CapInfo.Request(first.PagerSlot)));
        Assert.Equal(L4Status.DestinationDeleted, Error(mapper, new Msg.DataspaceAttach.Request(found.Slot, Msg.DataspaceAttach.ReadOnly)));
    }

    public void Dispose() => _harness.Dispose();

    /// <summary>A thread (with <paramref name="doorbell"/>) and a gate bound to it, label 7, made by a task that joined.</summary>
    private (Msg.CreateThread.Reply Thread, SlotReply Gate) ThreadAndGate(RecordingPort port, Msg.Hello.Reply joined, DoorbellRegion doorbell)
    {
        Msg.CreateThread.Reply thread = Ok<Msg.CreateThread.Reply>(port, new Msg.CreateThread.Request(joined.FactorySlot, Dup(doorbell)));
        return (thread, Ok<SlotReply>(port, new Msg.CreateGate.Request(joined.FactorySlot, thread.Slot, 7)));
    }

    private Msg.Hello.Reply Join(RecordingPort port) => _harness.Join(port);

    private T Ok<T>(RecordingPort port, IControlRequest<T> request)
        where T : IControlMessage<T> => _harness.Ok(port, request);

    private L4Status Error<T>(RecordingPort port, IControlRequest<T> request)
        where T : IControlMessage<T> => _harness.Error(port, request);

    private static Microsoft.Win32.SafeHandles.SafeFileHandle Dup(DoorbellRegion doorbell) => KernelHarness.Dup(doorbell);
}
