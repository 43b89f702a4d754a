using System.Diagnostics;
using System.Runtime.CompilerServices;
using L4Rt.Interop;
using L4Rt.Memory;

namespace L4Rt.Ipc;

public sealed partial class L4Thread
{
    /// <summary>A zero send timeout still lets a receiver that is already waiting take the message, for at most this long.</summary>
    private const long ZeroTimeoutGraceNanoseconds = 1_000_000;

    private enum Progress
    {
        Changed,
        TimedOut,
        Dead,
        Aborted,
        Canceled, // an asynchronous operation's token fired
    }

    /// <summary>
    /// Sends <paramref name="tag"/> with the words in <see cref="Utcb.Mr"/> and waits until the receiver took it.
    /// It succeeds only if the receiver took the message; if <paramref name="timeout"/> expires first the message
    /// is withdrawn atomically and never delivered (<see cref="L4Status.SendTimeout"/>). With
    /// <see cref="L4Timeout.Zero"/> the send fails at once unless the receiver is already waiting.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public IpcResult Send(SendLink link, MsgTag tag, L4Timeout timeout)
    {
        ArgumentNullException.ThrowIfNull(link);
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
            return Counted(SendCore(link, tag, timeout), ref Counters.Sends);
        }
        finally
        {
            link.Exit();
            Exit();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private IpcResult SendCore(SendLink link, MsgTag tag, L4Timeout timeout)
    {
        ref LinkLayout l = ref link.Region.Layout;
        if (!TryPost(link, ref l, tag, timeout, LinkState.Posted, out int seq, out L4Status early))
        {
            return new IpcResult(early);
        }

        long deadline = SendDeadline(timeout);
        int posted = LinkState.Make(seq, LinkState.Posted);
        bool accepted = false; // items only: the broker says the receiver accepted them, so the message is delivered
        while (true)
        {
            Progress progress = WaitForProgress(ref l, posted, deadline, call: false, out int state);
            if (progress == Progress.Changed)
            {
                return new IpcResult(Outcome(ref l, state, seq, LinkState.Taken));
            }

            if (progress == Progress.Dead)
            {
                return new IpcResult(L4Status.DestinationDeleted);
            }

            if (accepted)
            {
                return new IpcResult(L4Status.Ok); // delivered; its receiver did not commit within the grace (only a stalled or hostile one)
            }

            if (tag.Items != 0 && !WithdrawItems(link, seq, ref deadline))
            {
                accepted = true;
                continue;
            }

            // Timed out or aborted: withdraw, unless the receiver committed to the message in the meantime.
            if (l.StateWord.CompareExchangeFullFence(LinkState.Make(seq, LinkState.Idle), posted) == posted) // pairs with the receiver's committing CAS
            {
                return new IpcResult(progress == Progress.Aborted ? AbortStatus : L4Status.SendTimeout);
            }
        }
    }

    /// <summary>
    /// A message with items timed out: the broker decides whether it was delivered. True when withdrawn there (the
    /// link's state is then ours to withdraw too); false when the receiver accepted the items first: the message is
    /// delivered, and <paramref name="deadline"/> becomes a short grace for the receiver's commit.
    /// </summary>
    private static bool WithdrawItems(SendLink link, int seq, ref long deadline)
    {
        if (link.ItemTransfer!.Withdraw(link, seq))
        {
            return true;
        }

        deadline = Stopwatch.GetTimestamp() + Libc.Futex.NanosToTicks(ItemCommitGraceNanoseconds);
        return false;
    }

    /// <summary>Call with one timeout for both phases.</summary>
    public IpcResult Call(SendLink link, MsgTag tag, L4Timeout timeout) => Call(link, tag, timeout, timeout);

    /// <summary>
    /// Sends <paramref name="tag"/> with the words in <see cref="Utcb.Mr"/> and waits for the reply, as one atomic
    /// operation: the reply comes back through the same private link, so it cannot be missed or taken by anyone
    /// else. The reply's words land in <see cref="Utcb.Mr"/>. The send phase ends when the receiver takes the
    /// message (<paramref name="sendTimeout"/>); the receive phase when the reply arrives (<paramref name="receiveTimeout"/>).
    /// If the receiver drops its reply capability, the call returns <see cref="L4Status.ReplyDropped"/> at once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public IpcResult Call(SendLink link, MsgTag tag, L4Timeout sendTimeout, L4Timeout receiveTimeout)
    {
        ArgumentNullException.ThrowIfNull(link);
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
            return Counted(CallCore(link, tag, sendTimeout, receiveTimeout), ref Counters.Calls);
        }
        finally
        {
            link.Exit();
            Exit();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private IpcResult CallCore(SendLink link, MsgTag tag, L4Timeout sendTimeout, L4Timeout receiveTimeout)
    {
        ref LinkLayout l = ref link.Region.Layout;
        l.PublishCallReceiveTimeout(receiveTimeout.Nanoseconds);
        if (!TryPost(link, ref l, tag, sendTimeout, LinkState.PostedCall, out int seq, out L4Status early))
        {
            return new IpcResult(early);
        }

        CallProgress call = new(seq, SendDeadline(sendTimeout));
        while (true)
        {
            Progress progress = WaitForProgress(ref l, call.WaitingFor, call.Deadline, call: true, out int state);
            if (CallStep(link, tag, receiveTimeout, ref call, progress, state, out IpcResult result))
            {
                return result;
            }
        }
    }

    /// <summary>Where a call stands between two waits: the message's seq, the state awaited, the phase and its deadline.</summary>
    private struct CallProgress(int seq, long deadline)
    {
        internal readonly int Seq = seq;
        internal int WaitingFor = LinkState.Make(seq, LinkState.PostedCall);
        internal long Deadline = deadline;
        internal bool SendPhase = true;
        internal bool Accepted; // items only: the broker says the receiver accepted them
    }

    /// <summary>
    /// One step of a call after a wait for progress (shared by <see cref="Call(SendLink, MsgTag, L4Timeout, L4Timeout)"/> and
    /// <c>CallAsync</c>): the send phase lasts until the receiver takes the message, the receive phase until the reply.
    /// True with the outcome when the call is over; false to wait again for <see cref="CallProgress.WaitingFor"/> to change.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool CallStep(SendLink link, MsgTag tag, L4Timeout receiveTimeout, ref CallProgress call, Progress progress, int state, out IpcResult result)
    {
        ref LinkLayout l = ref link.Region.Layout;
        result = default;
        if (progress == Progress.Dead)
        {
            result = new IpcResult(L4Status.DestinationDeleted);
            return true;
        }

        if (progress != Progress.Changed)
        {
            if (call.SendPhase && tag.Items != 0)
            {
                if (call.Accepted)
                {
                    // Delivered (the broker said so) but not committed within the grace: wait for the reply as if it was.
                    call.SendPhase = false;
                    call.Deadline = receiveTimeout.IsNever ? long.MaxValue : receiveTimeout.DeadlineFrom(Stopwatch.GetTimestamp());
                    return false;
                }

                if (!WithdrawItems(link, call.Seq, ref call.Deadline))
                {
                    call.Accepted = true;
                    return false;
                }
            }

            if (l.StateWord.CompareExchangeFullFence(LinkState.Make(call.Seq, LinkState.Idle), call.WaitingFor) == call.WaitingFor) // pairs with the receiver's CAS (take, reply or drop)
            {
                result = new IpcResult(progress == Progress.Aborted ? AbortStatus
                    : progress == Progress.Canceled ? L4Status.Aborted
                    : call.SendPhase ? L4Status.SendTimeout : L4Status.ReceiveTimeout);
                return true;
            }

            return false; // the partner moved on just before the CAS: look again
        }

        if (LinkState.Seq(state) != call.Seq)
        {
            result = new IpcResult(L4Status.ProtocolViolation);
            return true;
        }

        switch (LinkState.Code(state))
        {
            case LinkState.AwaitingReply when call.SendPhase:
                call.SendPhase = false;
                call.Deadline = receiveTimeout.IsNever ? long.MaxValue : receiveTimeout.DeadlineFrom(Stopwatch.GetTimestamp());
                call.WaitingFor = state;
                return false;
            case LinkState.Replied:
                result = TakeReply(link, ref l, call.Seq);
                return true;
            case LinkState.ReplyDropped:
                result = new IpcResult(L4Status.ReplyDropped);
                return true;
            case LinkState.ItemsRefused when call.SendPhase:
                result = new IpcResult(RefusalStatus(ref l));
                return true;
            default:
                result = new IpcResult(L4Status.ProtocolViolation); // Rejected, or a state a hostile receiver made up
                return true;
        }
    }

    /// <summary>Writes the message into the link's request slot and publishes it; false with a status when it must not be sent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryPost(SendLink link, ref LinkLayout l, MsgTag tag, L4Timeout timeout, int code, out int seq, out L4Status status)
    {
        seq = 0;
        if (tag.Items != 0 && link.ItemTransfer is null)
        {
            ThrowHelper.ThrowItemsNeedBroker();
        }

        if (Volatile.Read(ref _aborted) != 0)
        {
            status = AbortStatus;
            return false;
        }

        if (l.ReceiverDeadFlag.IsRaisedAcquire()) // pairs with the death marker's raise
        {
            status = L4Status.DestinationDeleted;
            return false;
        }

        if (timeout.IsZero && !IsReceiverWaiting(link, ref l))
        {
            status = L4Status.SendTimeout; // zero timeout: the partner is not ready, nothing was posted
            return false;
        }

        // The request slot is the sender's alone while the state is one of the sender-owned codes.
        Utcb.Mr[..tag.Words].CopyTo(l.RequestWords(tag.Words));
        l.RequestTag = tag.Raw;
        seq = (link.NextSeq + 1) & 0x07FFFFFF;
        link.NextSeq = seq;
        if (code == LinkState.PostedCall && LinkState.Seq(l.ReplyStateWord.ReadAcquire()) == seq)
        {
            // A notice left 2^27 messages ago (sends and abandoned calls leave none) would pass for this call's outcome.
            l.ReplyStateWord.WriteRelease(0); // before the post: the receiver writes it again only after committing this call
        }
        if (tag.Items != 0)
        {
            // The items go to the broker, before the post: the receiver finds them there when it sees the message.
            // Their descriptors are not copied into the slot; the broker's record is what the receiver gets.
            status = link.ItemTransfer!.Offer(link, seq, Utcb.Mr.Slice(tag.Words, tag.Items * MsgTag.WordsPerItem));
            if (status != L4Status.Ok)
            {
                return false;
            }
        }

        // Full fence: publishes the slot (pairs with the receiver's acquire of State) and orders the
        // read of ReceiverWatching after it (pairs with the receiver's Exchange(ReceiverWatching, 0) + re-check).
        l.StateWord.ExchangeFullFence(LinkState.Make(seq, code));
        RingDoorbell(link, ref l);
        status = L4Status.Ok;
        return true;
    }

    private void RingDoorbell(SendLink link, ref LinkLayout l)
    {
        if (l.ReceiverWatchingFlag.IsRaisedAcquire()) // after the post's full fence: pairs with the receiver's LowerFullFence + re-check
        {
            return; // the receiver spins on this link's State and will see the post itself
        }

        if (link.Doorbell.RingWithHint(link.HintIndex))
        {
            Counters.Wakeups++;
        }
    }

    private static bool IsReceiverWaiting(SendLink link, ref LinkLayout l) =>
        l.ReceiverWatchingFlag.IsRaisedAcquire() || link.Doorbell.Layout.ReceiverWaitingWord.ReadAcquire() != DoorbellLayout.ReceiverNotWaiting; // pairs with the receiver's writes as it enters and leaves a wait

    private static long SendDeadline(L4Timeout timeout) =>
        timeout.IsNever ? long.MaxValue // no clock read on the common path
        : timeout.IsZero ? Stopwatch.GetTimestamp() + Libc.Futex.NanosToTicks(ZeroTimeoutGraceNanoseconds)
        : timeout.DeadlineFrom(Stopwatch.GetTimestamp());

    private static L4Status Outcome(ref LinkLayout l, int state, int seq, int expectedCode)
    {
        if (LinkState.Seq(state) != seq)
        {
            return L4Status.ProtocolViolation;
        }

        int code = LinkState.Code(state);
        return code == expectedCode ? L4Status.Ok
            : code == LinkState.ItemsRefused ? RefusalStatus(ref l)
            : L4Status.ProtocolViolation; // Rejected or made up
    }

    /// <summary>
    /// Why the receiver's broker refused a message's items: the status the receiver left in the reply slot's tag word,
    /// validated — it is the receiver's word, so only a status a refusal can have counts (<see cref="IsRefusal"/>); a
    /// receiver that claims anything else (Aborted, BrokerLost: statuses that would mislead this side) is violating the protocol.
    /// </summary>
    private static L4Status RefusalStatus(ref LinkLayout l)
    {
        ulong raw = Volatile.Read(ref l.ReplyTag); // read once; written before the receiver's CAS to ItemsRefused
        return raw <= (ulong)L4Status.ServerFault && IsRefusal((L4Status)raw) ? (L4Status)raw : L4Status.ProtocolViolation;
    }

    /// <summary>The statuses with which a receiver's broker refuses a message's items (and so the ones a sender may be told).</summary>
    internal static bool IsRefusal(L4Status status) => status is L4Status.InvalidCapability or L4Status.NoRights or L4Status.QuotaExceeded
        or L4Status.NoReceiveBuffer or L4Status.InvalidArgument or L4Status.DestinationDeleted;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private IpcResult TakeReply(SendLink link, ref LinkLayout l, int seq)
    {
        ulong raw = Volatile.Read(ref l.ReplyTag); // read once; the receiver wrote it before its CAS to Replied
        if (!MsgTag.TryDecode(raw, out MsgTag tag) || (tag.Items != 0 && link.ItemTransfer is null))
        {
            return new IpcResult(L4Status.ProtocolViolation);
        }

        l.ReplyWords(tag.Words).CopyTo(Utcb.Mr);
        if (tag.Items != 0)
        {
            // The slow path: the items wait at the broker (offered before the reply was posted). Refused or forged: the
            // call fails with that status, the words are in the registers all the same.
            L4Status accepted = link.ItemTransfer!.AcceptReply(this, link, seq, tag);
            if (accepted != L4Status.Ok)
            {
                return new IpcResult(accepted, tag);
            }
        }

        return new IpcResult(L4Status.Ok, tag);
    }

    /// <summary>
    /// Waits until the link's State differs from <paramref name="observed"/>: a bounded spin (the clock is read
    /// only every 64 iterations, so a quick partner costs no clock read), then futex sleeps on SenderWake.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Progress WaitForProgress(ref LinkLayout l, int observed, long deadline, bool call, out int state)
    {
        if (SpinForProgress(ref l, observed, deadline, call, out state, out Progress spun))
        {
            return spun;
        }

        while (true)
        {
            if (LookArmed(ref l, observed, deadline, canceled: false, out state, out int wake, out Progress progress))
            {
                return progress;
            }

            // Abort wakes only the sleep word, so a sender sleeps in bounded slices to notice it.
            long now = Stopwatch.GetTimestamp();
            long remaining = deadline == long.MaxValue ? AbortCheckNanoseconds : Math.Min(AbortCheckNanoseconds, Libc.Futex.TicksToNanos(deadline - now));
            Counters.Sleeps++;
            Futexes.Wait(ref l.SenderWake, wake, remaining);
        }
    }

    /// <summary>
    /// The spin of a sender's wait: until State differs from <paramref name="observed"/> or the receiver is dead (true), or
    /// the spin budget, the deadline or an abort ends it (false). The clock is read only every 64 iterations, so a quick
    /// partner costs no clock read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool SpinForProgress(ref LinkLayout l, int observed, long deadline, bool call, out int state, out Progress progress)
    {
        long spinTicks = _spinTicks;
        long spinStart = 0;
        WakeHint.BeforeSpin();
        for (int i = 1; spinTicks > 0; i++)
        {
            if (call)
            {
                // A caller watches the reply line, not State: a look at the control line between the receiver's take and
                // its reply would make the reply's commit fetch the line back. State is read with the clock, below.
                state = l.ReplyStateWord.ReadAcquire(); // acquire: pairs with the receiver's release after its commit (NoticeOutcome)
                if (LinkState.Seq(state) == LinkState.Seq(observed))
                {
                    progress = Progress.Changed;
                    return true;
                }
            }
            else
            {
                state = l.StateWord.ReadAcquire(); // acquire: pairs with the receiver's CAS that moved the message on
                if (state != observed)
                {
                    progress = Progress.Changed;
                    return true;
                }
            }

            if (l.ReceiverDeadFlag.IsRaisedAcquire()) // pairs with the death marker's raise
            {
                progress = Progress.Dead;
                return true;
            }

            if ((i & 63) == 0)
            {
                if (call && (state = l.StateWord.ReadAcquire()) != observed) // a take (the receive phase begins) or a withdrawal's outcome
                {
                    progress = Progress.Changed;
                    return true;
                }

                long now = Stopwatch.GetTimestamp();
                spinStart = spinStart == 0 ? now : spinStart;
                if (now - spinStart >= spinTicks || now >= deadline || Volatile.Read(ref _aborted) != 0)
                {
                    break;
                }
            }

            CpuRelax.Pause();
        }

        state = 0;
        progress = Progress.TimedOut;
        return false;
    }

    /// <summary>
    /// One look before sleeping: raises SenderWaiting, reads the wake word, re-checks. True with the progress (the flag
    /// lowered again) when there is no need to sleep; false with the wake word value to sleep on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool LookArmed(ref LinkLayout l, int observed, long deadline, bool canceled, out int state, out int wake, out Progress progress)
    {
        l.SenderWaitingFlag.RaiseFullFence(); // full fence: pairs with the receiver reading SenderWaiting after its CAS
        wake = l.SenderWakeWord.ReadAcquire(); // before the re-check: a wake after it changes the word and ends the futex wait at once
        state = l.StateWord.ReadAcquire(); // the re-check after raising SenderWaiting
        progress = state != observed ? Progress.Changed
            : l.ReceiverDeadFlag.IsRaisedAcquire() ? Progress.Dead
            : Volatile.Read(ref _aborted) != 0 ? Progress.Aborted
            : canceled ? Progress.Canceled
            : Progress.TimedOut;
        if (progress != Progress.TimedOut || Stopwatch.GetTimestamp() >= deadline)
        {
            l.SenderWaitingFlag.LowerRelease(); // read by the receiver after its CAS: no wake needed now
            return true;
        }

        return false;
    }

    private L4Status AbortStatus => (L4Status)Volatile.Read(ref _aborted);

    /// <summary>How long a sender whose items the receiver accepted waits for the receiver to commit the message after its own timeout.</summary>
    private const long ItemCommitGraceNanoseconds = 1_000_000_000;

    /// <summary>A sleeping sender re-checks for <see cref="Abort()"/> this often; partners, death markers and broker loss wake it at once.</summary>
    private const long AbortCheckNanoseconds = 250_000_000;
}
