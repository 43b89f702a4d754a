using System.Runtime.InteropServices;
using L4Rt.Interop;
using L4Rt.Memory;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Msg = L4Rt.Protocol.Messages;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// The broker's kernel state: tasks, capability spaces, objects, the name service. Every control-plane
/// request runs under one lock: requests are short, and one lock makes every check-then-act atomic
/// (a quota check and the charge, a rights check and the map).
/// </summary>
internal sealed partial class BrokerKernel : IDisposable
{
    private readonly Lock _lock = new();
    private readonly BrokerOptions _options;
    private readonly ILogger<BrokerKernel> _log;
    private readonly BrokerMetrics _metrics;
    private readonly FdBudget _fds;
    private readonly Dictionary<long, TaskObject> _tasks = [];
    private readonly NamespaceObject _namespace;
    private long _nextId;
    private uint _nextNotification;
    private bool _shutdown;

    public BrokerKernel(IOptions<BrokerOptions> options, ILogger<BrokerKernel> log, BrokerMetrics metrics, FdBudget fds)
    {
        _options = options.Value;
        _fds = fds;
        _log = log;
        _metrics = metrics;
        _namespace = new NamespaceObject(NextId());
        metrics.Observe(this);
    }

    internal int TaskCount
    {
        get
        {
            lock (_lock)
            {
                return _tasks.Count;
            }
        }
    }

    internal int ObjectCount
    {
        get
        {
            lock (_lock)
            {
                return _tasks.Values.Sum(t => t.Created.Count);
            }
        }
    }

    internal long UsedBytes
    {
        get
        {
            lock (_lock)
            {
                return _tasks.Values.Sum(t => t.RootFactory.UsedBytes);
            }
        }
    }

    internal long NextId() => ++_nextId;

    /// <summary>Handles one request from <paramref name="session"/>. Descriptors the handler does not keep are disposed.</summary>
    internal Reply Handle(ITaskPort session, FrameHeader header, ReadOnlySpan<byte> payload, List<SafeFdHandle> fds)
    {
        FrameReader reader = new(payload);
        lock (_lock)
        {
            _metrics.ControlCall(header.Opcode);
            try
            {
                if (_shutdown)
                {
                    return Reply.Error(L4Status.Aborted, "the broker is shutting down");
                }

                if (header.Opcode == Opcode.Hello)
                {
                    return Reply.Of(Hello(session, Read<Msg.Hello.Request>(ref reader, fds)));
                }

                TaskObject task = session.Task ?? throw new L4RtException(L4Status.ProtocolViolation, "the first request must be Hello");
                task.ControlCalls++;
                if (_options.Faults.InKernel(header.Opcode))
                {
                    throw new InvalidOperationException($"injected kernel fault handling {header.Opcode}");
                }

                return header.Opcode switch
                {
                    Opcode.CreateThread => Reply.Of(CreateThread(task, Read<Msg.CreateThread.Request>(ref reader, fds))),
                    Opcode.CreateGate => Reply.Of(CreateGate(task, Read<Msg.CreateGate.Request>(ref reader, fds))),
                    Opcode.CreateIrq => CreateIrq(header.RequestId, task, Read<Msg.CreateIrq.Request>(ref reader, fds)),
                    Opcode.CreateFactory => Reply.Of(CreateFactory(task, Read<Msg.CreateFactory.Request>(ref reader, fds))),
                    Opcode.CreateChannel => Reply.Of(CreateChannel(task, Read<Msg.CreateChannel.Request>(ref reader, fds))),
                    Opcode.ChannelAttach => Reply.Of(ChannelAttach(task, Read<Msg.ChannelAttach.Request>(ref reader, fds))),
                    Opcode.CreateDataspace => Reply.Of(CreateDataspace(task, Read<Msg.CreateDataspace.Request>(ref reader, fds))),
                    Opcode.CreatePagedDataspace => Reply.Of(CreatePagedDataspace(task, Read<Msg.CreatePagedDataspace.Request>(ref reader, fds))),
                    Opcode.DataspaceAttach => Reply.Of(DataspaceAttach(task, Read<Msg.DataspaceAttach.Request>(ref reader, fds))),
                    Opcode.ItemOffer => Reply.Of(ItemOffer(task, Read<Msg.ItemOffer.Request>(ref reader, fds))),
                    Opcode.ItemAccept => Reply.Of(ItemAccept(task, Read<Msg.ItemAccept.Request>(ref reader, fds))),
                    Opcode.ItemWithdraw => Reply.Of(ItemWithdraw(task, Read<Msg.ItemWithdraw.Request>(ref reader, fds))),
                    Opcode.ReplyItemOffer => Reply.Of(ReplyItemOffer(task, Read<Msg.ReplyItemOffer.Request>(ref reader, fds))),
                    Opcode.ReplyItemAccept => Reply.Of(ReplyItemAccept(task, Read<Msg.ReplyItemAccept.Request>(ref reader, fds))),
                    Opcode.MappingRelease => Reply.Of(MappingRelease(task, Read<Msg.MappingRelease.Request>(ref reader, fds))),
                    Opcode.FactoryUsage => Reply.Of(FactoryUsage(task, Read<Msg.FactoryUsage.Request>(ref reader, fds))),
                    Opcode.GateLink => GateLink(task, Read<Msg.GateLink.Request>(ref reader, fds)),
                    Opcode.LinkClose => Reply.Of(LinkClose(task, Read<Msg.LinkClose.Request>(ref reader, fds))),
                    Opcode.IrqAttach => Reply.Of(IrqAttach(task, Read<Msg.IrqAttach.Request>(ref reader, fds))),
                    Opcode.IrqTrigger => Reply.Of(IrqTrigger(task, Read<Msg.IrqTrigger.Request>(ref reader, fds))),
                    Opcode.Map => Reply.Of(Map(task, Read<Msg.Map.Request>(ref reader, fds))),
                    Opcode.Delete => Reply.Of(Delete(task, Read<Msg.Delete.Request>(ref reader, fds))),
                    Opcode.CapInfo => Reply.Of(CapInfo(task, Read<Msg.CapInfo.Request>(ref reader, fds))),
                    Opcode.NameRegister => Reply.Of(NameRegister(task, Read<Msg.NameRegister.Request>(ref reader, fds))),
                    Opcode.NameQuery => NameQuery(header.RequestId, task, Read<Msg.NameQuery.Request>(ref reader, fds)),
                    Opcode.NameUnregister => Reply.Of(NameUnregister(task, Read<Msg.NameUnregister.Request>(ref reader, fds))),
                    Opcode.NameList => Reply.Of(NameList(task, Read<Msg.NameList.Request>(ref reader, fds))),
                    Opcode.Status => Reply.Of(Status(task, Read<Msg.Status.Request>(ref reader, fds))),
                    Opcode.Cancel => Reply.Of(Cancel(task, Read<Msg.Cancel.Request>(ref reader, fds))),
                    Opcode.TaskNote => Reply.Of(TaskNote(task, Read<Msg.TaskNote.Request>(ref reader, fds))),
                    _ => throw new L4RtException(L4Status.ProtocolViolation, $"opcode {(ushort)header.Opcode} is not a request"),
                };
            }
            catch (L4RtException e)
            {
                return Reply.Error(e.Status, e.Message);
            }
            finally
            {
                foreach (SafeFdHandle fd in fds)
                {
                    fd.Dispose(); // handlers take what they keep (and clear the list)
                }
            }
        }
    }

    /// <summary>Reads a request's message: every field checked, the payload consumed, its descriptors taken.</summary>
    private static T Read<T>(ref FrameReader reader, List<SafeFdHandle> fds)
        where T : IControlMessage<T> => T.Read(ref reader, fds);

    private Msg.Hello.Reply Hello(ITaskPort session, Msg.Hello.Request request)
    {
        (uint version, string name) = request;
        if (session.Task is not null)
        {
            throw new L4RtException(L4Status.ProtocolViolation, "Hello was already received on this connection");
        }

        if (version != ProtocolLimits.ProtocolVersion)
        {
            throw new L4RtException(L4Status.ProtocolViolation, $"protocol version {version} is not supported; the broker speaks {ProtocolLimits.ProtocolVersion}");
        }

        if (_tasks.Count >= _options.MaxTasks)
        {
            throw new L4RtException(L4Status.QuotaExceeded, $"the broker serves at most {_options.MaxTasks} tasks");
        }

        TaskObject task = new(NextId(), session, session.Pid, session.Uid, name);
        task.RootFactory = new FactoryObject(NextId(), task, _options.TaskQuotaBytes, _options.TaskQuotaObjects, quotaFds: _options.TaskQuotaFds);
        int selfSlot = Install(task, new Capability(task, CapRights.Map | CapRights.Write, task, null));
        int factorySlot = Install(task, new Capability(task.RootFactory, CapRights.All, task, null));
        int namespaceSlot = Install(task, new Capability(_namespace, CapRights.Send | CapRights.Write, task, null));
        _tasks.Add(task.Id, task);
        session.Task = task;
        BrokerLog.TaskJoined(_log, task.Id, task.Pid, task.Uid, task.Name);
        return new((int)task.Id, selfSlot, factorySlot, namespaceSlot, Environment.ProcessId);
    }

    /// <summary>The capability at <paramref name="slot"/> of <paramref name="task"/>; <see cref="L4Status.InvalidCapability"/> if the slot is empty.</summary>
    private static Capability Lookup(TaskObject task, int slot) =>
        task.Space.Get(slot) ?? throw new L4RtException(L4Status.InvalidCapability, $"slot {slot} holds no capability");

    private static T Expect<T>(Capability cap, CapRights rights)
        where T : KernelObject
    {
        if (cap.Object is not T target)
        {
            throw new L4RtException(L4Status.InvalidCapability, $"slot {cap.Slot} names {Article(cap.Object.Kind.ToString())}, not {Article(typeof(T).Name.Replace("Object", "", StringComparison.Ordinal))}");
        }

        if (!cap.Has(rights))
        {
            throw new L4RtException(L4Status.NoRights, $"slot {cap.Slot} lacks the right {rights & ~cap.Rights}");
        }

        return target;
    }

    /// <summary>"a Gate", "an Irq".</summary>
    private static string Article(string noun) => ("AEIOU".Contains(noun[0], StringComparison.Ordinal) ? "an " : "a ") + noun;

    private static int Install(TaskObject task, Capability cap)
    {
        int slot = task.Space.Insert(cap);
        cap.Object.Caps.Add(cap);
        cap.Parent?.Children.Add(cap);
        return slot;
    }

    /// <summary>Sends a notification and calls <paramref name="onAck"/> (under the lock) with the receiver's answer, or an error after the ack timeout.</summary>
    private void Notify<T>(TaskObject to, Opcode opcode, T message, Action<L4Status> onAck)
        where T : IControlMessage<T>
    {
        uint id = ++_nextNotification;
        PendingAck pending = new(to, onAck);
        pending.Timer = new Timer(_ => CompleteAck(to.Port, id, L4Status.SendTimeout), null, _options.AckTimeout, Timeout.InfiniteTimeSpan);
        _pendingAcks[id] = pending;
        if (!to.Port.Notify(opcode, id, message))
        {
            _pendingAcks.Remove(id);
            pending.Timer.Dispose();
            onAck(L4Status.DestinationDeleted);
        }
    }

    private readonly Dictionary<uint, PendingAck> _pendingAcks = [];

    private sealed class PendingAck(TaskObject to, Action<L4Status> onAck)
    {
        internal TaskObject To { get; } = to;

        internal Action<L4Status> OnAck { get; } = onAck;

        internal Timer? Timer { get; set; }
    }

    /// <summary>A task answered a notification (or the ack timer fired).</summary>
    internal void CompleteAck(ITaskPort session, uint id, L4Status status)
    {
        lock (_lock)
        {
            if (_pendingAcks.TryGetValue(id, out PendingAck? pending) && pending.To.Port == session)
            {
                _pendingAcks.Remove(id);
                pending.Timer?.Dispose();
                pending.OnAck(status);
            }
        }
    }

    private void SendDeferred(TaskObject task, Opcode opcode, uint requestId, Reply reply)
    {
        if (task.Destroyed)
        {
            return;
        }

        task.Port.Respond(opcode, requestId, reply);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _shutdown = true;
            foreach (TaskObject task in _tasks.Values.ToList())
            {
                task.Port.Notify(Opcode.Shutdown, 0, default(Empty));
                DestroyTask(task);
            }

            foreach (PendingAck pending in _pendingAcks.Values)
            {
                pending.Timer?.Dispose();
            }

            _pendingAcks.Clear();
        }
    }
}
