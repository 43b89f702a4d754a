using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Protocol;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Objects;

/// <summary>
/// An IPC gate: holders of this capability (with the send right) can send to the thread it is bound to.
/// The first send of a thread through it asks the broker for a link shared only by that thread and the
/// receiver; later sends go straight through shared memory. Use it with <see cref="L4Thread.Call(Gate, MsgTag, L4Timeout)"/>
/// and <see cref="L4Thread.Send(Gate, MsgTag, L4Timeout)"/>.
/// </summary>
public sealed class Gate : Capability
{
    private readonly Lock _lock = new();
    private readonly Dictionary<L4Thread, SendLink> _links = [];
    private L4Thread? _lastThread;
    private SendLink? _lastLink;

    internal Gate(L4Task task, int slot, CapRights rights)
        : base(task, slot, CapKind.Gate, rights)
    {
    }

    /// <summary>The link for <paramref name="thread"/>, set up on first use; false with a status when it cannot be.</summary>
    internal bool TryGetLink(L4Thread thread, out SendLink link, out L4Status status)
    {
        // Hot path: the same thread again (no lock, no allocation).
        if (ReferenceEquals(Volatile.Read(ref _lastThread), thread) && _lastLink is { } cached)
        {
            link = cached;
            status = L4Status.Ok;
            return true;
        }

        lock (_lock)
        {
            if (!_links.TryGetValue(thread, out SendLink? found))
            {
                try
                {
                    found = Open();
                }
                catch (L4RtException e)
                {
                    link = null!;
                    status = e.Status;
                    return false;
                }

                _links[thread] = found;
                Task.TrackSender(thread, found);
                thread.Disposed += Forget; // a dead thread's link must not hold quota and an endpoint index forever
            }

            _lastLink = found;
            Volatile.Write(ref _lastThread, thread);
            link = found;
            status = L4Status.Ok;
            return true;
        }
    }

    /// <summary>Sets up a link ahead of the first send (to keep setup time off a latency-sensitive path).</summary>
    public L4Status Prepare(L4Thread thread)
    {
        ArgumentNullException.ThrowIfNull(thread);
        return TryGetLink(thread, out _, out L4Status status) ? L4Status.Ok : status;
    }

    /// <summary>The sending thread is gone: close its link here and in the broker.</summary>
    private void Forget(L4Thread thread)
    {
        SendLink? link;
        lock (_lock)
        {
            if (!_links.Remove(thread, out link))
            {
                return;
            }

            if (ReferenceEquals(_lastThread, thread))
            {
                _lastLink = null;
                Volatile.Write(ref _lastThread, null);
            }
        }

        long id = link.BrokerId;
        Task.UntrackSender(thread, link);
        link.Dispose();
        if (id != 0 && !Task.IsBrokerLost)
        {
            _ = Task.CallAsync(Opcode.LinkClose, new Payload().Int64(id))
                .ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    private SendLink Open()
    {
        using ControlResponse response = Task.Call(Opcode.GateLink, new Payload().Int32(Slot));
        response.ThrowIfError("link setup");
        if (response.Fds.Count != 2)
        {
            throw new L4RtException(L4Status.ProtocolViolation, "the broker's link reply lacks its two descriptors");
        }

        SafeFileHandle region = ToFile(response.Fds[0]);
        SafeFileHandle doorbell = ToFile(response.Fds[1]);
        response.Fds.Clear();
        SendLink link = SendLink.Attach(region, doorbell);
        link.BrokerId = new FrameReader(response.Payload).ReadInt64();
        return link;
    }

    internal static SafeFileHandle ToFile(SafeFdHandle fd)
    {
        int raw = fd.Fd;
        fd.SetHandleAsInvalid();
        return new SafeFileHandle(raw, ownsHandle: true);
    }
}
