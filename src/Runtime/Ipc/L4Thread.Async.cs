using System.Diagnostics;
using System.Runtime.CompilerServices;
using L4Rt.Memory;

namespace L4Rt.Ipc;

public sealed partial class L4Thread
{
    private AsyncFutexWait? _asyncWait;

    private AsyncFutexWait AsyncWait => _asyncWait ??= new();

    /// <summary>
    /// <see cref="Wait"/> without holding an OS thread: a message already there completes synchronously; otherwise the
    /// wait parks no thread (the process's futex reactor sleeps on this thread's doorbell with every other asynchronous
    /// waiter, in one <c>futex_waitv</c>) and the continuation runs on the thread pool. <paramref name="cancellationToken"/>
    /// ends the wait within microseconds with <see cref="OperationCanceledException"/> (the reply capability is dropped,
    /// as by any wait). No allocation per wait after the first. One operation at a time per thread, as always.
    /// </summary>
    public ValueTask<IpcResult> WaitAsync(L4Timeout timeout, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IpcResult>(cancellationToken);
        }

        IpcResult ready = Wait(L4Timeout.Zero);
        return ready.Status != L4Status.ReceiveTimeout || timeout.IsZero ? new(ready) : WaitAsyncCore(timeout, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<IpcResult> WaitAsyncCore(L4Timeout timeout, CancellationToken cancellationToken)
    {
        long deadline = timeout.IsNever ? long.MaxValue : timeout.DeadlineFrom(Stopwatch.GetTimestamp());
        if (!Enter())
        {
            return new IpcResult(L4Status.Aborted);
        }

        try
        {
            StopWatching();
            Volatile.Write(ref _doorbell.Layout.AsleepSince, Stopwatch.GetTimestamp()); // before the flag: a waker reads it after seeing the flag
            while (true)
            {
                if (TakeArmed(out int seq, out IpcResult result))
                {
                    return Counted(result, ref Counters.Received);
                }

                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    return Counted(new IpcResult(L4Status.ReceiveTimeout), ref Counters.Received);
                }

                Counters.Sleeps++;
                if (await AsyncWait.WaitAsync(DoorbellSeq, seq, deadline, cancellationToken).ConfigureAwait(false) == FutexWake.Canceled)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
            }
        }
        finally
        {
            _doorbell.Layout.ReceiverWaitingWord.WriteRelease(ReceiverNotWaiting); // read by a zero-timeout sender: nobody will take its post
            Exit();
        }
    }

    /// <summary>One look at the links with the doorbell armed (asleep: senders ring it); the doorbell counter to sleep on otherwise.</summary>
    private bool TakeArmed(out int seq, out IpcResult result)
    {
        ref DoorbellLayout d = ref _doorbell.Layout;
        d.ReceiverWaitingWord.ExchangeFullFence(ReceiverAsleep); // full fence: pairs with the sender's read after its Seq increment
        seq = d.SeqWord.ReadAcquire(); // after the fence; the reactor compares against it, so a later post is never slept through
        return TryTake(null, out result);
    }

    private unsafe nint DoorbellSeq => (nint)Unsafe.AsPointer(ref _doorbell.Layout.Seq); // mapped memory: it never moves

    /// <summary>Asynchronous <see cref="Call(SendLink, MsgTag, L4Timeout, L4Timeout)"/> with one timeout for both phases.</summary>
    public ValueTask<IpcResult> CallAsync(SendLink link, MsgTag tag, L4Timeout timeout, CancellationToken cancellationToken = default) =>
        CallAsync(link, tag, timeout, timeout, cancellationToken);

    /// <summary>
    /// <see cref="Call(SendLink, MsgTag, L4Timeout, L4Timeout)"/> without holding an OS thread while the partner works: the
    /// call spins within this thread's budget (<see cref="SpinNanoseconds"/>; 0 for none), then parks no thread until the
    /// reply (see <see cref="WaitAsync"/>). Cancelling <paramref name="cancellationToken"/> withdraws the message if the
    /// receiver has not taken it, or abandons the reply if it has (a late reply is then refused), and throws
    /// <see cref="OperationCanceledException"/>; it takes effect within microseconds. The words of the reply are in
    /// <see cref="Utcb.Mr"/> when the task completes. No allocation per call after the first.
    /// </summary>
    public ValueTask<IpcResult> CallAsync(SendLink link, MsgTag tag, L4Timeout sendTimeout, L4Timeout receiveTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(link);
        return cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<IpcResult>(cancellationToken)
            : CallAsyncCore(link, tag, sendTimeout, receiveTimeout, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<IpcResult> CallAsyncCore(SendLink link, MsgTag tag, L4Timeout sendTimeout, L4Timeout receiveTimeout, CancellationToken cancellationToken)
    {
        if (!Enter())
        {
            return new IpcResult(L4Status.Aborted);
        }

        if (!link.Enter())
        {
            Exit();
            return new IpcResult(L4Status.DestinationDeleted);
        }

        try
        {
            if (!Post(link, tag, sendTimeout, receiveTimeout, out int seq, out L4Status early))
            {
                return new IpcResult(early);
            }

            CallProgress call = new(seq, SendDeadline(sendTimeout));
            bool canceled = false, spin = true;
            while (true)
            {
                if (!Look(link, call.WaitingFor, call.Deadline, spin, canceled, out Progress progress, out int state, out int wake))
                {
                    // Abort wakes only the sleep word, so a waiting sender looks again after a bounded slice to notice it.
                    long slice = Math.Min(call.Deadline, Stopwatch.GetTimestamp() + Interop.Libc.Futex.NanosToTicks(AbortCheckNanoseconds));
                    Counters.Sleeps++;
                    canceled |= await AsyncWait.WaitAsync(SenderWake(link), wake, slice, cancellationToken).ConfigureAwait(false) == FutexWake.Canceled;
                    spin = false;
                    continue;
                }

                if (CallStep(link, tag, receiveTimeout, ref call, progress, state, out IpcResult result))
                {
                    if (canceled && result.Status == L4Status.Aborted && Volatile.Read(ref _aborted) == 0)
                    {
                        throw new OperationCanceledException(cancellationToken);
                    }

                    return Counted(result, ref Counters.Calls);
                }
            }
        }
        finally
        {
            link.Exit();
            Exit();
        }
    }

    private bool Post(SendLink link, MsgTag tag, L4Timeout timeout, L4Timeout receiveTimeout, out int seq, out L4Status status)
    {
        link.Region.Layout.PublishCallReceiveTimeout(receiveTimeout.Nanoseconds); // as in CallCore
        return TryPost(link, ref link.Region.Layout, tag, timeout, LinkState.PostedCall, out seq, out status);
    }

    /// <summary>A spin (first look only), then one armed look; false with the wake word to sleep on.</summary>
    private bool Look(SendLink link, int observed, long deadline, bool spin, bool canceled, out Progress progress, out int state, out int wake)
    {
        ref LinkLayout l = ref link.Region.Layout;
        wake = 0;
        if (spin && !canceled && SpinForProgress(ref l, observed, deadline, call: true, out state, out progress))
        {
            return true;
        }

        return LookArmed(ref l, observed, deadline, canceled, out state, out wake, out progress);
    }

    private static unsafe nint SenderWake(SendLink link) => (nint)Unsafe.AsPointer(ref link.Region.Layout.SenderWake); // mapped memory: it never moves
}
