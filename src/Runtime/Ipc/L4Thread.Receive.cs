using System.Diagnostics;
using System.Runtime.CompilerServices;
using L4Rt.Interop;
using L4Rt.Memory;

namespace L4Rt.Ipc;

public sealed partial class L4Thread
{
    private const int ReceiverNotWaiting = DoorbellLayout.ReceiverNotWaiting;
    private const int ReceiverSpinning = DoorbellLayout.ReceiverSpinning;
    private const int ReceiverAsleep = DoorbellLayout.ReceiverAsleep;

    // Which links an open wait looks at: hints drained from the doorbell into private memory, and when to scan all.
    private HintScheduler _hints = new();

    // The implicit reply capability: the link and message seq of the last call received.
    private ReceiveLink? _replyLink;
    private int _replySeq;
    private long _callerReceiveTimeout; // the caller's receive timeout (L4Timeout encoding), read from the link as the call was taken

    // A message with items that its sender withdrew at the broker: it takes it back from the link itself.
    private ReceiveLink? _withdrawnLink;
    private int _withdrawnSeq;

    /// <summary>
    /// True while this thread holds a reply capability: the last message it received was a call, and it has neither replied
    /// nor started another wait (which drops the capability: the caller gets <see cref="L4Status.ReplyDropped"/>).
    /// </summary>
    public bool HasReplyCapability => _replyLink is not null;

    /// <summary>
    /// The receive timeout the caller of the pending call (<see cref="HasReplyCapability"/>) gave, as it started waiting
    /// for the reply, about when this thread took the call. A server that forwards the call (a proxy, the gRPC bridge)
    /// bounds its own wait by it, so the caller's deadline holds end to end. <see cref="L4Timeout.Zero"/> when no call
    /// is pending. The value comes from the caller's memory: it is a hint about the caller, never trusted for safety.
    /// </summary>
    public L4Timeout CallerReceiveTimeout => _replyLink is null ? L4Timeout.Zero : L4Timeout.FromEncoded(_callerReceiveTimeout);

    /// <summary>The link of the call this thread received last and has not answered yet (tests and helpers watch its caller).</summary>
    internal ReceiveLink? ReplyLink => _replyLink;

    /// <summary>How often the receiver fell back to scanning every link (diagnostics; the common case never does).</summary>
    internal long FullScans => _hints.FullScans;

    // The link this thread spins on directly after replying through it (its sender may skip the doorbell).
    private ReceiveLink? _watched;

    /// <summary>
    /// The link or IRQ the last message this thread received came through (null before the first). For a broker
    /// gate each sending thread has its own link, so <c>Receive(LastSource, timeout)</c> is L4's closed wait on that
    /// sender: its next message only, the others' stay pending. On an IRQ's link it waits for that IRQ alone.
    /// </summary>
    public ReceiveLink? LastSource { get; private set; }

    /// <summary>
    /// Open wait: receives the next message from any link of this thread and returns its label. Ends the
    /// previous reply capability (a caller still waiting for that reply gets <see cref="L4Status.ReplyDropped"/>).
    /// When the sender process of a direct link (<see cref="DirectLinkListener"/>) dies, one open wait returns
    /// <see cref="L4Status.DestinationDeleted"/> with that link's <see cref="IpcResult.Label"/> (after any message
    /// it left); the link stays bound until it is disposed, which the server should do. Broker gates report no
    /// sender deaths: a gate serves many senders, and the broker cleans up after them.
    /// </summary>
    public IpcResult Wait(L4Timeout timeout) => WaitCore(null, timeout);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private IpcResult WaitCore(ReceiveLink? closed, L4Timeout timeout)
    {
        if (!Enter())
        {
            return new IpcResult(L4Status.Aborted);
        }

        try
        {
            return Counted(WaitGuarded(closed, timeout), ref Counters.Received);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Closed wait: receives the next message from <paramref name="from"/> only; messages on other links stay pending.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public IpcResult Receive(ReceiveLink from, L4Timeout timeout)
    {
        ArgumentNullException.ThrowIfNull(from);
        if (from.Owner != this)
        {
            throw new ArgumentException("The link is bound to another thread.", nameof(from));
        }

        return WaitCore(from, timeout);
    }

    /// <summary>
    /// Replies to the last call received, with <paramref name="tag"/> and the words in <see cref="Utcb.Mr"/>.
    /// Like an L4 reply it never blocks: <see cref="L4Status.SendTimeout"/> if the caller stopped waiting,
    /// <see cref="L4Status.DestinationDeleted"/> if it died (as the broker marked it), <see cref="L4Status.InvalidCapability"/>
    /// if there is no reply capability. A reply with typed items (a thread of a task only) offers them to the broker
    /// first; a refusal there (no right to map, say) is returned, nothing is posted, and the reply capability is kept,
    /// so the caller still waits for a reply or for the capability to end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public L4Status Reply(MsgTag tag)
    {
        if (tag.Items != 0 && ItemTransfer is null)
        {
            ThrowHelper.ThrowItemsNeedBroker();
        }

        if (!Enter())
        {
            return L4Status.Aborted;
        }

        try
        {
            return ReplyCore(tag);
        }
        finally
        {
            Exit();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private L4Status ReplyCore(MsgTag tag)
    {
        ReceiveLink? link = _replyLink;
        if (link is null)
        {
            return L4Status.InvalidCapability;
        }

        ref LinkLayout l = ref link.Region.Layout;
        if (l.SenderDeadFlag.IsRaisedAcquire()) // pairs with the death marker's raise
        {
            _replyLink = null;
            return L4Status.DestinationDeleted; // a dead caller still "awaits" (it never withdrew): the reply would go nowhere
        }

        int awaiting = LinkState.Make(_replySeq, LinkState.AwaitingReply);
        if (l.StateWord.ReadAcquire() != awaiting) // pairs with the caller's CAS that withdraws its call
        {
            _replyLink = null;
            return l.SenderDeadFlag.IsRaisedAcquire() ? L4Status.DestinationDeleted : L4Status.SendTimeout;
        }

        if (tag.Items != 0)
        {
            // The items go to the broker before the post: the caller finds them there when it sees the reply. If the
            // caller gives up before the CAS below, the offer stays unaccepted until the link's next reply replaces it.
            L4Status offered = ItemTransfer!.OfferReply(this, link, _replySeq, Utcb.Mr.Slice(tag.Words, tag.Items * MsgTag.WordsPerItem));
            if (offered != L4Status.Ok)
            {
                return offered; // not posted; the reply capability stays (the next wait drops it: the caller sees ReplyDropped)
            }
        }

        _replyLink = null;

        // The reply slot is the receiver's alone (the caller reads it only after seeing Replied); the CAS publishes it.
        Utcb.Mr[..tag.Words].CopyTo(l.ReplyWords(tag.Words));
        l.ReplyTag = tag.Raw;
        int replied = LinkState.Make(_replySeq, LinkState.Replied);
        if (l.StateWord.CompareExchangeFullFence(replied, awaiting) != awaiting) // pairs with the caller's acquire of State before TakeReply
        {
            return L4Status.SendTimeout; // the caller gave up while we wrote: the reply is not delivered
        }

        NoticeOutcome(ref l, replied);
        NotifySender(ref l);
        Watch(link);
        return L4Status.Ok;
    }

    /// <summary>Replies to the last call (if any) and waits for the next message from any link, as one operation.</summary>
    public IpcResult ReplyAndWait(MsgTag tag, L4Timeout timeout) => ReplyAndWait(tag, timeout, out _);

    /// <summary>As <see cref="ReplyAndWait(MsgTag, L4Timeout)"/>, also reporting how the reply went; the wait happens either way.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public IpcResult ReplyAndWait(MsgTag tag, L4Timeout timeout, out L4Status replyStatus)
    {
        if (tag.Items != 0 && ItemTransfer is null)
        {
            ThrowHelper.ThrowItemsNeedBroker();
        }

        if (!Enter())
        {
            replyStatus = L4Status.Aborted;
            return new IpcResult(L4Status.Aborted);
        }

        try
        {
            replyStatus = ReplyCore(tag);
            return Counted(WaitGuarded(null, timeout), ref Counters.Received);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Sleep: a wait on the nil capability. Returns <see cref="L4Status.ReceiveTimeout"/> after <paramref name="timeout"/> (or <see cref="L4Status.Aborted"/>).</summary>
    public L4Status Sleep(L4Timeout timeout)
    {
        if (!Enter())
        {
            return L4Status.Aborted;
        }

        try
        {
            return SleepCore(timeout);
        }
        finally
        {
            Exit();
        }
    }

    private L4Status SleepCore(L4Timeout timeout)
    {
        DropReplyCapability();
        StopWatching();
        long deadline = timeout.DeadlineFrom(Stopwatch.GetTimestamp());
        while (!timeout.IsZero)
        {
            int word = Volatile.Read(ref _sleepWord.Value);
            if (Volatile.Read(ref _aborted) != 0)
            {
                return AbortStatus;
            }

            long now = Stopwatch.GetTimestamp();
            if (now >= deadline)
            {
                break;
            }

            Counters.Sleeps++;
            Futexes.Wait(ref _sleepWord.Value, word, deadline == long.MaxValue ? -1 : Libc.Futex.TicksToNanos(deadline - now));
        }

        return L4Status.ReceiveTimeout;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private IpcResult WaitGuarded(ReceiveLink? closed, L4Timeout timeout)
    {
        ReleaseRetired();
        DropReplyCapability();
        ref DoorbellLayout d = ref _doorbell.Layout;
        long deadline = timeout.IsNever ? long.MaxValue : timeout.DeadlineFrom(Stopwatch.GetTimestamp());
        d.ReceiverWaitingWord.WriteRelease(ReceiverSpinning); // lets a zero-timeout sender know we are ready
        try
        {
            int seen = d.SeqWord.ReadAcquire(); // before the first look, so a post in between shows as a change
            if (TryTake(closed, out IpcResult result))
            {
                return result;
            }

            if (timeout.IsZero)
            {
                return new IpcResult(L4Status.ReceiveTimeout);
            }

            long spinTicks = _spinTicks;
            if (spinTicks > 0)
            {
                WakeHint.BeforeSpin();
                long spinStart = 0; // read lazily: a partner that answers within 64 spins costs no clock read
                for (int i = 1; ; i++)
                {
                    CpuRelax.Pause();

                    // Cheap checks first: the doorbell counter and the watched link's state are one cache line each.
                    int seq = d.SeqWord.ReadAcquire(); // pairs with the senders' Seq increment after their hints
                    bool watchedPosted = _watched is { } w && IsPosted(w.Region.Layout.StateWord.ReadForWrite()); // for write: the take's CAS follows
                    bool closedPosted = closed is not null && (closed.IsIrq ? closed.Region.Layout.StateWord.ReadAcquire() > 0 : IsPosted(closed.Region.Layout.StateWord.ReadAcquire()));
                    if ((seq != seen || watchedPosted || closedPosted) && TryTake(closed, out result))
                    {
                        return result;
                    }

                    seen = seq;
                    if ((i & 63) == 0)
                    {
                        long now = Stopwatch.GetTimestamp();
                        spinStart = spinStart == 0 ? now : spinStart;
                        if (now - spinStart >= spinTicks || now >= deadline || Volatile.Read(ref _aborted) != 0)
                        {
                            break;
                        }
                    }
                }
            }

            StopWatching();
            Volatile.Write(ref d.AsleepSince, Stopwatch.GetTimestamp()); // before the flag: a waker reads it after seeing the flag
            while (true)
            {
                d.ReceiverWaitingWord.ExchangeFullFence(ReceiverAsleep); // full fence: pairs with the sender's read after its Seq increment
                int seq = d.SeqWord.ReadAcquire(); // after the fence above; the futex wait compares against it, so a later post is never slept through
                if (TryTake(closed, out result))
                {
                    return result;
                }

                long now = Stopwatch.GetTimestamp();
                if (now >= deadline)
                {
                    return new IpcResult(L4Status.ReceiveTimeout);
                }

                Counters.Sleeps++;
                Futexes.Wait(ref d.Seq, seq, deadline == long.MaxValue ? -1 : Libc.Futex.TicksToNanos(deadline - now));
                d.ReceiverWaitingWord.WriteRelease(ReceiverSpinning); // awake again: senders need not wake us (read by RingWithHint)
            }
        }
        finally
        {
            d.ReceiverWaitingWord.WriteRelease(ReceiverNotWaiting); // read by a zero-timeout sender: nobody will take its post
        }
    }

    private static bool IsPosted(int state)
    {
        int code = LinkState.Code(state);
        return code == LinkState.Posted || code == LinkState.PostedCall;
    }

    /// <summary>One non-blocking look for a message: the watched link, then hints, then (when hints fell short) a full scan.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryTake(ReceiveLink? closed, out IpcResult result)
    {
        if (Volatile.Read(ref _aborted) != 0)
        {
            result = new IpcResult(AbortStatus);
            return true;
        }

        if (closed is not null)
        {
            if (closed.IsDisposed)
            {
                result = new IpcResult(L4Status.InvalidCapability);
                return true;
            }

            if (TryTakeFrom(closed, out result))
            {
                return true;
            }

            if (closed.Region.Layout.SenderDeadFlag.IsRaisedAcquire()) // pairs with the death marker's raise before its doorbell ring
            {
                result = new IpcResult(L4Status.DestinationDeleted);
                return true;
            }

            return false;
        }

        if (_watched is { } watched && TryTakeFrom(watched, out result))
        {
            return true;
        }

        ref DoorbellLayout d = ref _doorbell.Layout;

        // Read the counter before draining: a sender sets its hint bits before it increments, so every
        // increment counted here has its hint visible to the drain, and a surplus below means hints were lost.
        int seq = d.SeqWord.ReadAcquire(); // pairs with the sender's Interlocked.Increment after its hint bits
        _hints.Drain(ref d);
        ReceiveLink?[] links = _endpoints.Slots;
        while (_hints.HasPending)
        {
            int index = _hints.NextPending();
            if ((uint)index < (uint)links.Length && Volatile.Read(ref links[index]) is { } candidate && TryTakeFrom(candidate, out result))
            {
                _hints.TookHinted();
                return true;
            }
        }

        int highWater = _endpoints.HighWater;
        if (_hints.BeginScan(seq, highWater))
        {
            int count = Math.Min(links.Length, highWater);
            int start = _hints.Cursor;
            for (int n = 0; n < count; n++)
            {
                int index = (start + n) % count;
                if (Volatile.Read(ref links[index]) is { } candidate && TryTakeFrom(candidate, out result))
                {
                    _hints.TookByScan(index);
                    return true;
                }
            }
        }

        if (Volatile.Read(ref _senderDeathsPending) != 0 && TryTakeSenderDeath(out result)) // pairs with ReportSenderDeath's write
        {
            return true;
        }

        result = default;
        return false;
    }

    /// <summary>Reports the next direct-link sender that died (off the message path: no message was there).</summary>
    private bool TryTakeSenderDeath(out IpcResult result)
    {
        while (_senderDeaths.TryDequeue(out ReceiveLink? link))
        {
            if (link.IsDisposed || link.Owner != this)
            {
                continue; // removed by the server meanwhile: nothing left to report
            }

            if (TryTakeFrom(link, out result))
            {
                _senderDeaths.Enqueue(link); // its last message first, the death at the next wait
                return true;
            }

            result = new IpcResult(L4Status.DestinationDeleted, label: link.Label);
            return true;
        }

        // Clear, then look again: a report enqueued after our last dequeue raised the flag after its enqueue.
        Volatile.Write(ref _senderDeathsPending, 0);
        Interlocked.MemoryBarrier();
        if (!_senderDeaths.IsEmpty)
        {
            Volatile.Write(ref _senderDeathsPending, 1);
        }

        result = default;
        return false;
    }

    /// <summary>
    /// Takes a posted message from one link: read the tag once, validate it, copy the validated number of
    /// words, then commit with one CAS. If the sender withdrew meanwhile the copy is discarded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryTakeFrom(ReceiveLink link, out IpcResult result)
    {
        ref LinkLayout l = ref link.Region.Layout;
        if (link.IsIrq)
        {
            // Triggers coalesce into a count; taking it resets the count (a hostile value ≤ 0 delivers nothing).
            int count = l.StateWord.ReadAcquire() > 0 ? l.StateWord.ExchangeFullFence(0) : 0; // pairs with the triggerers' increments
            if (count <= 0)
            {
                result = default;
                return false;
            }

            Utcb.Mr[0] = (ulong)count;
            LastSource = link;
            result = new IpcResult(L4Status.Ok, new MsgTag(SystemProtocol.Irq, words: 1), link.Label);
            return true;
        }

        int state = l.StateWord.ReadAcquire(); // acquire: pairs with the sender's Exchange that published the slot
        int code = LinkState.Code(state);
        if (code != LinkState.Posted && code != LinkState.PostedCall)
        {
            result = default;
            return false;
        }

        // Copy first, then commit with one CAS from the exact state seen (seqlock style): if the sender
        // withdrew and began another message meanwhile, the CAS fails and the possibly torn copy is dropped.
        int seq = LinkState.Seq(state);
        ulong raw = Volatile.Read(ref l.RequestTag); // read once, validate, use only the local
        if (!MsgTag.TryDecode(raw, out MsgTag tag) || (tag.Items != 0 && ItemTransfer is null))
        {
            // A malformed message (only a hostile sender writes one), or items where no broker serves: refuse it and tell the sender.
            Finish(ref l, seq, state, LinkState.Rejected);
            result = default;
            return false;
        }

        l.RequestWords(tag.Words).CopyTo(Utcb.Mr);
        long callerTimeout = Volatile.Read(ref l.CallReceiveTimeout); // copied with the words: valid only if the CAS below succeeds
        if (tag.Items != 0)
        {
            return TakeWithItems(link, state, tag, callerTimeout, out result);
        }

        int committed = LinkState.Make(seq, code == LinkState.PostedCall ? LinkState.AwaitingReply : LinkState.Taken);
        if (l.StateWord.CompareExchangeFullFence(committed, state) != state) // pairs with the sender's withdrawing CAS and its acquire of State
        {
            result = default; // withdrawn by the sender while we copied: never delivered
            return false;
        }

        NotifySender(ref l);
        if (code == LinkState.PostedCall)
        {
            _replyLink = link;
            _replySeq = seq;
            _callerReceiveTimeout = callerTimeout;
        }

        LastSource = link;
        result = new IpcResult(L4Status.Ok, tag, link.Label);
        return true;
    }

    /// <summary>
    /// The slow path of <see cref="TryTakeFrom"/> for a message with typed items (its words already copied): the broker
    /// accepts the items into this thread's buffer registers, or refuses them; only then is the message committed.
    /// </summary>
    private bool TakeWithItems(ReceiveLink link, int state, MsgTag tag, long callerTimeout, out IpcResult result)
    {
        ref LinkLayout l = ref link.Region.Layout;
        int seq = LinkState.Seq(state);
        result = default;
        if (_withdrawnLink == link && _withdrawnSeq == seq)
        {
            return false; // the sender withdrew it at the broker and will take it back from the link: not ours to touch
        }

        L4Status accepted = ItemTransfer!.Accept(this, link, seq, tag);
        switch (accepted)
        {
            case L4Status.Ok:
                break;
            case L4Status.SendTimeout:
                (_withdrawnLink, _withdrawnSeq) = (link, seq);
                return false;
            case L4Status.ProtocolViolation: // counted in the tag, absent at the broker: a forged message
                Finish(ref l, seq, state, LinkState.Rejected);
                return false;
            default:
                // The receiver's word until the CAS below publishes it (read by RefusalStatus). A failure that is not a
                // refusal (this side lost its broker, say) tells the sender only that the message could not be delivered.
                l.ReplyTag = (ulong)(IsRefusal(accepted) ? accepted : L4Status.DestinationDeleted);
                Finish(ref l, seq, state, LinkState.ItemsRefused);
                return false;
        }

        // The broker delivered the items; the words were copied while the sender could not withdraw (the broker refuses
        // a withdrawal once it accepted), so the commit fails only for a sender that skipped the broker: deliver anyway.
        int code = LinkState.Code(state);
        Finish(ref l, seq, state, code == LinkState.PostedCall ? LinkState.AwaitingReply : LinkState.Taken);
        if (code == LinkState.PostedCall)
        {
            _replyLink = link;
            _replySeq = seq;
            _callerReceiveTimeout = callerTimeout;
        }

        LastSource = link;
        result = new IpcResult(L4Status.Ok, tag, link.Label);
        return true;
    }

    /// <summary>Moves the link from the exact <paramref name="state"/> seen to <paramref name="code"/> and wakes the sender if it sleeps.</summary>
    private void Finish(ref LinkLayout l, int seq, int state, int code)
    {
        int committed = LinkState.Make(seq, code);
        if (l.StateWord.CompareExchangeFullFence(committed, state) == state) // pairs with the sender's acquire of State
        {
            if (code != LinkState.Taken && code != LinkState.AwaitingReply)
            {
                NoticeOutcome(ref l, committed); // a refusal ends a call as a reply would
            }

            NotifySender(ref l);
        }
    }

    /// <summary>
    /// After a successful CAS that ended a call (<paramref name="committed"/>: Replied, ReplyDropped, ItemsRefused or
    /// Rejected), says so on the reply line, where a spinning caller looks: it need not read the control line, which then
    /// stays in this thread's cache from the take to the reply. Only a notice: the CAS before it was the decision, and
    /// State stays the truth for a caller that sleeps (woken after the CAS, it reads State).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NoticeOutcome(ref LinkLayout l, int committed) =>
        l.ReplyStateWord.WriteRelease(committed); // release: after the reply's words and tag (pairs with the caller's acquire of ReplyState)

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // after every take and reply: one read inline, the wake out of line
    private void NotifySender(ref LinkLayout l)
    {
        // Called right after a CAS (a full fence): pairs with the sender's Exchange(SenderWaiting, 1) before it re-checks State.
        if (l.SenderWaitingFlag.IsRaisedAcquire())
        {
            WakeSender(ref l);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WakeSender(ref LinkLayout l)
    {
        l.SenderWakeWord.IncrementFullFence(); // pairs with the sender's read of SenderWake before its futex wait
        Futexes.Wake(ref l.SenderWake);
        Counters.Wakeups++;
    }

    /// <summary>The reply capability ends when the next wait starts: a caller still waiting learns at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // every wait; after a reply there is none to drop
    private void DropReplyCapability()
    {
        if (_replyLink is { } link)
        {
            DropReplyCapability(link);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DropReplyCapability(ReceiveLink link)
    {
        _replyLink = null;
        ref LinkLayout l = ref link.Region.Layout;
        int awaiting = LinkState.Make(_replySeq, LinkState.AwaitingReply);
        int dropped = LinkState.Make(_replySeq, LinkState.ReplyDropped);
        if (l.StateWord.CompareExchangeFullFence(dropped, awaiting) == awaiting) // pairs with the caller's acquire of State
        {
            NoticeOutcome(ref l, dropped);
            NotifySender(ref l);
        }
    }

    private void Watch(ReceiveLink link)
    {
        if (_watched != link)
        {
            StopWatching();
            _watched = link;
        }

        // Usually already 1 (we keep watching across calls): skip the store, it would only pull the control line
        // away from the caller that polls it.
        if (!link.Region.Layout.ReceiverWatchingFlag.IsRaisedAcquire()) // our own last write; read to avoid a needless store
        {
            link.Region.Layout.ReceiverWatchingFlag.RaiseRelease(); // pairs with the sender's read after its post (RingDoorbell)
        }
    }

    /// <summary>
    /// Stops spinning on the watched link. Exchange then re-check pairs with the sender's post-then-read of
    /// ReceiverWatching: either the sender saw 0 and rang the doorbell, or we see its post here.
    /// </summary>
    private void StopWatching()
    {
        ReceiveLink? link = _watched;
        if (link is null)
        {
            return;
        }

        _watched = null;
        ref LinkLayout l = ref link.Region.Layout;
        l.ReceiverWatchingFlag.LowerFullFence(); // pairs with the sender's post-then-read of ReceiverWatching
        if (IsPosted(l.StateWord.ReadAcquire())) // the re-check after the fence
        {
            _hints.MarkPending(link.Index);
        }
    }
}
