using System.Diagnostics;
using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Objects;

/// <summary>
/// An IPC gate: holders of this capability (with the send right) can send to the thread it is bound to.
/// The first send of a thread through it asks the broker for a link shared only by that thread and the
/// receiver; later sends go straight through shared memory. Use it with
/// <see cref="L4ThreadExtensions.Call(L4Thread, Gate, MsgTag, L4Timeout)"/> and
/// <see cref="L4ThreadExtensions.Send(L4Thread, Gate, MsgTag, L4Timeout)"/>.
/// </summary>
/// <remarks>
/// The hot path never comes here: each sending thread caches its own link (see <c>L4Thread.TryGetCachedLink</c>).
/// The gate keeps the links it set up only to close them when their thread goes.
/// </remarks>
public sealed class Gate : Capability
{
    /// <summary>A zero send timeout still lets the first send set up its link, for at most this long (a broker round trip, not a wait for the partner).</summary>
    private static readonly TimeSpan s_zeroTimeoutSetup = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<L4Thread, SendLink> _links = [];

    internal Gate(L4Task task, int slot, CapRights rights)
        : base(task, slot, CapKind.Gate, rights)
    {
    }

    /// <summary>
    /// The link for <paramref name="thread"/>, set up on first use within <paramref name="timeout"/>, which is left
    /// holding what remains of it for the send; false with a status when the link cannot be had.
    /// </summary>
    internal bool TryGetLink(L4Thread thread, ref L4Timeout timeout, out SendLink link, out L4Status status)
    {
        status = L4Status.Ok;
        if (thread.TryGetCachedLink(this, out SendLink? cached))
        {
            link = cached;
            return true;
        }

        SendLink? found;
        lock (_lock)
        {
            _links.TryGetValue(thread, out found);
        }

        if (found is null)
        {
            // The broker round trip runs outside the lock: other threads' first sends on this gate do not wait for it.
            long start = Stopwatch.GetTimestamp();
            try
            {
                found = Open(SetupBudget(timeout));
            }
            catch (L4RtException e)
            {
                link = null!;
                status = e.Status;
                return false;
            }

            timeout = Remaining(timeout, start);
            Adopt(thread, found);
        }

        thread.CacheLink(this, found);
        link = found;
        return true;
    }

    /// <summary>Sets up a link ahead of the first send (to keep setup time off a latency-sensitive path).</summary>
    public L4Status Prepare(L4Thread thread)
    {
        ArgumentNullException.ThrowIfNull(thread);
        L4Timeout timeout = L4Timeout.Never;
        return TryGetLink(thread, ref timeout, out _, out L4Status status) ? L4Status.Ok : status;
    }

    /// <summary>Records a link just set up for <paramref name="thread"/>, so it is closed when the thread goes.</summary>
    private void Adopt(L4Thread thread, SendLink link)
    {
        lock (_lock)
        {
            _links.Add(thread, link); // only the thread's own (single) user sets up its link
        }

        Owner.TrackSender(thread, link);
        thread.Disposed += Forget; // a dead thread's link must not hold quota and an endpoint index forever
        if (thread.IsDisposed)
        {
            Forget(thread); // disposed during the setup: its Disposed event may have fired before we subscribed
        }
    }

    /// <summary>The sending thread is gone: close its link here and in the broker (once, whoever calls first).</summary>
    private void Forget(L4Thread thread)
    {
        SendLink? link;
        lock (_lock)
        {
            if (!_links.Remove(thread, out link))
            {
                return;
            }
        }

        long id = link.BrokerId;
        Owner.UntrackSender(thread, link);
        link.Dispose();
        if (id != 0 && !Owner.IsBrokerLost)
        {
            CloseInBroker(id);
        }
    }

    /// <summary>Tells the broker a link is closed (quota refunded); fire and forget: nobody waits for it.</summary>
    private void CloseInBroker(long linkId) =>
        _ = Owner.RequestAsync(new LinkClose.Request(linkId), "close a link")
            .ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private SendLink Open(TimeSpan timeout)
    {
        // A setup we gave up on still completes in the broker, charged to this task: close that link when its answer comes.
        GateLink.Reply reply = Owner.Request(new GateLink.Request(Slot), "link setup", timeout, undo: late =>
        {
            late.Region.Dispose();
            late.Doorbell.Dispose();
            CloseInBroker(late.LinkId);
        });
        SendLink link = SendLink.Attach(reply.Region, reply.Doorbell);
        link.BrokerId = reply.LinkId;
        link.ItemTransfer = Owner;
        return link;
    }

    private static TimeSpan SetupBudget(L4Timeout timeout) =>
        timeout.IsNever ? Timeout.InfiniteTimeSpan
        : timeout.IsZero ? s_zeroTimeoutSetup
        : TimeSpan.FromTicks(Math.Max(1, timeout.Nanoseconds / 100));

    /// <summary>What is left of a finite send timeout after the setup that began at <paramref name="start"/> (Zero once spent).</summary>
    private static L4Timeout Remaining(L4Timeout timeout, long start)
    {
        if (timeout.IsNever || timeout.IsZero)
        {
            return timeout;
        }

        long spent = (long)Stopwatch.GetElapsedTime(start).TotalNanoseconds;
        return L4Timeout.FromNanoseconds(Math.Max(0, timeout.Nanoseconds - spent));
    }
}
