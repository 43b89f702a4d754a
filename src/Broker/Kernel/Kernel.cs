using System.Runtime.InteropServices;
using L4Rt.Interop;
using L4Rt.Memory;
using L4Rt.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// The broker's kernel state: tasks, capability spaces, objects, the name service. Every control-plane
/// request runs under one lock: requests are short, and one lock makes every check-then-act atomic
/// (a quota check and the charge, a rights check and the map).
/// </summary>
internal sealed partial class Kernel : IDisposable
{
    private readonly Lock _lock = new();
    private readonly BrokerOptions _options;
    private readonly ILogger<Kernel> _log;
    private readonly BrokerMetrics _metrics;
    private readonly FdBudget _fds;
    private readonly Dictionary<long, TaskObject> _tasks = [];
    private readonly NamespaceObject _namespace;
    private long _nextId;
    private uint _nextNotification;
    private bool _shutdown;

    public Kernel(IOptions<BrokerOptions> options, ILogger<Kernel> log, BrokerMetrics metrics, FdBudget fds)
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
    internal Reply Handle(ClientSession session, FrameHeader header, ReadOnlySpan<byte> payload, List<SafeFdHandle> fds)
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
                    return Hello(session, ref reader);
                }

                TaskObject task = session.Task ?? throw new L4RtException(L4Status.ProtocolViolation, "the first request must be Hello");
                task.ControlCalls++;
                if (_options.Faults.InKernel(header.Opcode))
                {
                    throw new InvalidOperationException($"injected kernel fault handling {header.Opcode}");
                }

                if (header.Opcode == Opcode.Status)
                {
                    return Status(task, ref reader);
                }

                if (header.Opcode == Opcode.LinkClose)
                {
                    return LinkClose(task, ref reader);
                }

                Capability cap = Lookup(task, reader.ReadInt32());
                return header.Opcode switch
                {
                    Opcode.CreateThread => CreateThread(task, cap, ref reader, fds),
                    Opcode.CreateGate => CreateGate(task, cap, ref reader),
                    Opcode.CreateIrq => CreateIrq(session, header.RequestId, task, cap, ref reader),
                    Opcode.CreateFactory => CreateFactory(task, cap, ref reader),
                    Opcode.CreateChannel => CreateChannel(task, cap, ref reader),
                    Opcode.ChannelAttach => ChannelAttach(task, cap, ref reader),
                    Opcode.FactoryUsage => FactoryUsage(cap, ref reader),
                    Opcode.GateLink => GateLink(task, cap, ref reader),
                    Opcode.IrqAttach => IrqAttach(cap, ref reader),
                    Opcode.IrqTrigger => IrqTrigger(cap, ref reader),
                    Opcode.Map => Map(task, cap, ref reader),
                    Opcode.Delete => Delete(cap, ref reader),
                    Opcode.CapInfo => CapInfo(cap, ref reader),
                    Opcode.NameRegister => NameRegister(task, cap, ref reader),
                    Opcode.NameQuery => NameQuery(session, header.RequestId, task, cap, ref reader),
                    Opcode.NameUnregister => NameUnregister(task, cap, ref reader),
                    Opcode.NameList => NameList(cap, ref reader),
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

    private Reply Hello(ClientSession session, ref FrameReader reader)
    {
        uint version = reader.ReadUInt32();
        string name = reader.ReadString(ProtocolLimits.MaxTaskNameLength, "the task name");
        reader.End();
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

        TaskObject task = new(NextId(), session, session.Peer.Pid, session.Peer.Uid, name);
        task.RootFactory = new FactoryObject(NextId(), task, _options.TaskQuotaBytes, _options.TaskQuotaObjects, quotaFds: _options.TaskQuotaFds);
        int selfSlot = Install(task, new Capability(task, CapRights.Map | CapRights.Write, task, null));
        int factorySlot = Install(task, new Capability(task.RootFactory, CapRights.All, task, null));
        int namespaceSlot = Install(task, new Capability(_namespace, CapRights.Send | CapRights.Write, task, null));
        _tasks.Add(task.Id, task);
        session.Task = task;
        BrokerLog.TaskJoined(_log, task.Id, task.Pid, task.Uid, task.Name);
        return Reply.Ok(new Payload().Int32((int)task.Id).Int32(selfSlot).Int32(factorySlot).Int32(namespaceSlot).Int32(Environment.ProcessId));
    }

    /// <summary>The capability at <paramref name="slot"/> of <paramref name="task"/>; <see cref="L4Status.InvalidCapability"/> if the slot is empty.</summary>
    private static Capability Lookup(TaskObject task, int slot) =>
        task.Space.Get(slot) ?? throw new L4RtException(L4Status.InvalidCapability, $"slot {slot} holds no capability");

    private static T Expect<T>(Capability cap, CapRights rights)
        where T : KernelObject
    {
        if (cap.Object is not T target)
        {
            throw new L4RtException(L4Status.InvalidCapability, $"slot {cap.Slot} names a {cap.Object.Kind}, not a {typeof(T).Name.Replace("Object", "", StringComparison.Ordinal)}");
        }

        if (!cap.Has(rights))
        {
            throw new L4RtException(L4Status.NoRights, $"slot {cap.Slot} lacks the right {rights & ~cap.Rights}");
        }

        return target;
    }

    private static int Install(TaskObject task, Capability cap)
    {
        int slot = task.Space.Insert(cap);
        cap.Object.Caps.Add(cap);
        cap.Parent?.Children.Add(cap);
        return slot;
    }

    /// <summary>Sends a notification and calls <paramref name="onAck"/> (under the lock) with the receiver's answer, or an error after the ack timeout.</summary>
    private void Notify(TaskObject to, Opcode opcode, Payload payload, SafeHandle fd, Action<L4Status> onAck)
    {
        uint id = ++_nextNotification;
        PendingAck pending = new(to, onAck);
        pending.Timer = new Timer(_ => CompleteAck(to.Session, id, L4Status.SendTimeout), null, _options.AckTimeout, Timeout.InfiniteTimeSpan);
        _pendingAcks[id] = pending;
        if (!to.Session.Send(Payload.Frame(FrameKind.Notification, opcode, id, L4Status.Ok, payload.Span), [fd]))
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
    internal void CompleteAck(ClientSession session, uint id, L4Status status)
    {
        lock (_lock)
        {
            if (_pendingAcks.TryGetValue(id, out PendingAck? pending) && pending.To.Session == session)
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

        task.Session.Respond(opcode, requestId, reply);
    }

    private static SafeFileHandle TakeFd(List<SafeFdHandle> fds, int expected)
    {
        if (fds.Count != expected)
        {
            throw new L4RtException(L4Status.ProtocolViolation, $"expected {expected} descriptor(s) with this request, got {fds.Count}");
        }

        SafeFdHandle fd = fds[0];
        fds.RemoveAt(0);
        int raw = fd.Fd;
        fd.SetHandleAsInvalid();
        return new SafeFileHandle(raw, ownsHandle: true);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _shutdown = true;
            foreach (TaskObject task in _tasks.Values.ToList())
            {
                task.Session.Send(Payload.Frame(FrameKind.Notification, Opcode.Shutdown, 0, L4Status.Ok, []), []);
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
