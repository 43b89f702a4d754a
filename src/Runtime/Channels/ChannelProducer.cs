using System.Runtime.CompilerServices;
using L4Rt.Ipc;
using L4Rt.Memory;

namespace L4Rt.Channels;

/// <summary>
/// The producing end of a zero-copy FIFO channel: reserve a record in place, write it, commit. Committed
/// records become visible when published (every <see cref="Commit"/> by default; pass <c>publish: false</c>
/// to batch and call <see cref="Publish"/> once). Not thread-safe: one producer thread at a time.
/// </summary>
public sealed class ChannelProducer : ChannelEndpoint
{
    private long _tail;          // private: the producer never trusts the shared copy of its own position
    private long _head;          // last validated head seen from the consumer
    private long _reserved = -1; // offset of the reserved record's header, -1 when none
    private int _reservedSize; // bytes the reserved record may hold
    private bool _published = true;
    private long _want; // bytes the blocked Reserve waits for

    internal ChannelProducer(ChannelRegion region)
        : base(region, producer: true)
    {
    }

    /// <summary>The largest record this ring carries.</summary>
    public int MaxRecordSize
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (int)Math.Min(int.MaxValue, Capacity - ChannelLayout.RecordHeader);
    }

    /// <summary>Bytes committed that the consumer has not released yet (as last seen).</summary>
    public long BytesInFlight => _tail - _head;

    /// <summary>
    /// Reserves room for a record of <paramref name="size"/> bytes and returns it as a writable span in the ring.
    /// <see cref="L4Timeout.Zero"/>: fail at once with <see cref="L4Status.SendTimeout"/> when the ring is full.
    /// A record larger than the ring throws; a dead consumer gives <see cref="L4Status.DestinationDeleted"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public L4Status Reserve(int size, L4Timeout timeout, out Span<byte> record)
    {
        record = default;
        if (!Enter())
        {
            return L4Status.Aborted;
        }

        try
        {
            return ReserveCore(size, timeout, out record);
        }
        finally
        {
            Exit();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private L4Status ReserveCore(int size, L4Timeout timeout, out Span<byte> record)
    {
        record = default;
        if ((uint)size > (uint)MaxRecordSize)
        {
            ThrowTooLarge(size);
        }

        if (IsFaulted)
        {
            return L4Status.ProtocolViolation;
        }

        long need = ChannelLayout.RecordHeader + ChannelLayout.Align8(size);
        long capacity = Capacity;
        long offset = _tail & (capacity - 1);
        long deadline = 0;
        if (offset + need > capacity)
        {
            // The record would straddle the end: a padding record fills the rest of the ring first. It is placed
            // (and published) as soon as it fits on its own, so the record then waits only for room at offset 0.
            // Waiting for padding + record at once could wait forever: above half the ring, the two together
            // are more than the whole ring, however far the consumer drains it.
            long pad = capacity - offset;
            L4Status padStatus = Room(pad, timeout, ref deadline);
            if (padStatus != L4Status.Ok)
            {
                return padStatus;
            }

            Region.HeaderAt(offset) = ((ulong)ChannelLayout.PaddingFlag << 32) | (uint)(pad - ChannelLayout.RecordHeader);
            _tail += pad;
            _published = false;
            offset = 0;
        }

        L4Status status = Room(need, timeout, ref deadline);
        if (status != L4Status.Ok)
        {
            return status;
        }

        _reserved = offset;
        _reservedSize = size;
        record = Region.Slice(offset + ChannelLayout.RecordHeader, size);
        return L4Status.Ok;
    }

    /// <summary>Commits the reserved record with <paramref name="length"/> bytes (at most what was reserved) and, by default, publishes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Commit(int length, bool publish = true)
    {
        if (!Enter())
        {
            return;
        }

        try
        {
            CommitCore(length, publish);
        }
        finally
        {
            Exit();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CommitCore(int length, bool publish)
    {
        long offset = _reserved;
        if (offset < 0)
        {
            throw new InvalidOperationException("Commit without a reserved record.");
        }

        if ((uint)length > (uint)_reservedSize)
        {
            ThrowHelper.ThrowCommitOutOfRange(length, _reservedSize); // the reservation stays: a correct Commit may follow
        }

        _reserved = -1;
        Region.HeaderAt(offset) = (uint)length; // written before the tail is published: the consumer reads it after acquiring Tail
        _tail += ChannelLayout.RecordHeader + ChannelLayout.Align8(length);
        Records++;
        Bytes += length;
        _published = false;
        if (publish)
        {
            PublishCore();
        }
    }

    /// <summary>
    /// Completes the stream: the consumer reads what was committed, then <see cref="L4Status.DestinationDeleted"/>
    /// with <see cref="ChannelConsumer.IsCompleted"/> set (a graceful end, unlike the producer dying).
    /// </summary>
    public L4Status Complete(L4Timeout timeout)
    {
        if (!Enter())
        {
            return L4Status.Aborted;
        }

        try
        {
            L4Status status = ReserveCore(0, timeout, out _);
            if (status != L4Status.Ok)
            {
                return status;
            }

            Region.HeaderAt(_reserved) = (ulong)ChannelLayout.EndFlag << 32;
            _reserved = -1;
            _tail += ChannelLayout.RecordHeader;
            _published = false;
            PublishCore();
            return L4Status.Ok;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Makes every committed record visible to the consumer (and wakes it if it sleeps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Publish()
    {
        if (!Enter())
        {
            return;
        }

        try
        {
            PublishCore();
        }
        finally
        {
            Exit();
        }
    }

    private void PublishCore()
    {
        if (_published)
        {
            return;
        }

        _published = true;
        ref ChannelLayout l = ref Region.Layout;
        PublishPosition(ref l.Tail, _tail, ref l.ConsumerFences);
        WakeIfWaiting(ref l.ConsumerWaiting, ref l.DataWake, ref l.ConsumerAsleepSince);
    }

    /// <summary>Copying API: writes <paramref name="data"/> as one record.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public L4Status Write(ReadOnlySpan<byte> data, L4Timeout timeout)
    {
        L4Status status = Reserve(data.Length, timeout, out Span<byte> record);
        if (status == L4Status.Ok)
        {
            data.CopyTo(record);
            Commit(data.Length);
        }

        return status;
    }

    /// <summary>
    /// Asynchronous <see cref="Write"/>: completes synchronously while there is room; otherwise waits for the consumer to
    /// free it without holding a thread (<see cref="WaitForRoomAsync(int, CancellationToken)"/>). Cancellation throws <see cref="OperationCanceledException"/> at once.
    /// </summary>
    public ValueTask<L4Status> WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<L4Status>(cancellationToken);
        }

        L4Status status = Write(data.Span, L4Timeout.Zero);
        return status != L4Status.SendTimeout ? ValueTask.FromResult(status) : WriteAsyncCore(data, cancellationToken);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<L4Status> WriteAsyncCore(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (true)
        {
            L4Status room = await WaitForRoomAsync(data.Length, cancellationToken).ConfigureAwait(false);
            if (room != L4Status.Ok)
            {
                return room;
            }

            L4Status status = Write(data.Span, L4Timeout.Zero);
            if (status != L4Status.SendTimeout)
            {
                return status;
            }
        }
    }

    /// <summary>
    /// Waits, without holding an OS thread, until a record of <paramref name="size"/> bytes could be reserved at the
    /// tail (or the next step towards it: the padding before a wrap). <see cref="L4Status.Ok"/>, or why there will be
    /// no room (<see cref="L4Status.DestinationDeleted"/>, <see cref="L4Status.Aborted"/>, a corrupt ring).
    /// Records committed without publishing are published first. Cancellation throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public ValueTask<L4Status> WaitForRoomAsync(int size, CancellationToken cancellationToken = default) => WaitForRoomAsync(size, L4Timeout.Never, cancellationToken);

    /// <summary>As <see cref="WaitForRoomAsync(int, CancellationToken)"/>, giving up with <see cref="L4Status.SendTimeout"/> after <paramref name="timeout"/>.</summary>
    public ValueTask<L4Status> WaitForRoomAsync(int size, L4Timeout timeout, CancellationToken cancellationToken = default)
    {
        if ((uint)size > (uint)MaxRecordSize)
        {
            ThrowTooLarge(size);
        }

        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<L4Status>(cancellationToken) : WaitForRoomAsyncCore(size, timeout, cancellationToken);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<L4Status> WaitForRoomAsyncCore(int size, L4Timeout timeout, CancellationToken cancellationToken)
    {
        if (!Enter())
        {
            return L4Status.Aborted;
        }

        try
        {
            long deadline = Deadline(timeout);
            while (true)
            {
                long need = NeedAtTail(size);
                L4Status status = IsFaulted ? L4Status.ProtocolViolation : RefreshHead(need);
                if (status != L4Status.SendTimeout)
                {
                    return status;
                }

                if (IsDisposed)
                {
                    return L4Status.Aborted;
                }

                PublishCore(); // the consumer can only release what it can see
                if (System.Diagnostics.Stopwatch.GetTimestamp() >= deadline)
                {
                    return L4Status.SendTimeout;
                }

                _want = need;
                (nint waiting, nint wake, nint asleepSince) = WaitWords();
                Memory.FutexWake how = await WaitUntilReadyAsync(waiting, wake, asleepSince, deadline, cancellationToken).ConfigureAwait(false);
                Disarm(waiting);
                if (how == Memory.FutexWake.Canceled)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>What a reservation of <paramref name="size"/> bytes waits for first: the padding to the end of the ring when the record would straddle it, else the record.</summary>
    private long NeedAtTail(int size)
    {
        long need = ChannelLayout.RecordHeader + ChannelLayout.Align8(size);
        long offset = _tail & (Capacity - 1);
        return offset + need > Capacity ? Capacity - offset : need;
    }

    private (nint Waiting, nint Wake, nint AsleepSince) WaitWords()
    {
        ref ChannelLayout l = ref Region.Layout;
        return (AddressOf(ref l.ProducerWaiting), AddressOf(ref l.SpaceWake), AddressOf(ref l.ProducerAsleepSince));
    }

    /// <summary>Room for <paramref name="need"/> bytes past the tail: at once when the last head seen leaves it, else <see cref="WaitForRoom"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private L4Status Room(long need, L4Timeout timeout, ref long deadline) =>
        _tail + need - _head <= Capacity ? L4Status.Ok : WaitForRoom(need, timeout, ref deadline);

    /// <summary>
    /// Waits (within <paramref name="timeout"/>; <paramref name="deadline"/> is taken at the first wait and shared by
    /// the waits of one reservation) until <paramref name="need"/> bytes past the tail are free.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private L4Status WaitForRoom(long need, L4Timeout timeout, ref long deadline)
    {
        L4Status status = RefreshHead(need);
        if (status != L4Status.SendTimeout)
        {
            return status;
        }

        // Records committed without publishing (and a padding record just placed) must become visible before we
        // wait for (or poll) the consumer to free space: it can only release what it can see.
        PublishCore();
        if (timeout.IsZero)
        {
            return status;
        }

        deadline = deadline == 0 ? Deadline(timeout) : deadline;
        ref ChannelLayout l = ref Region.Layout;
        _want = need;
        while (status == L4Status.SendTimeout && System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
        {
            WaitUntilReady(ref l.ProducerWaiting, ref l.SpaceWake, ref l.ProducerAsleepSince, deadline);
            status = IsDisposed ? L4Status.Aborted : RefreshHead(need);
        }

        return status;
    }

    /// <summary>Reads the consumer's head once, validates it, and reports whether <paramref name="need"/> bytes fit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private L4Status RefreshHead(long need)
    {
        ref ChannelLayout l = ref Region.Layout;
        long head = Volatile.Read(ref l.Head); // acquire: pairs with the consumer's release of the records before it
        if (head < _head || head > _tail)
        {
            return Fault(); // no honest consumer moves backwards or past what was published
        }

        _head = head;
        if (_tail + need - head <= Capacity)
        {
            return L4Status.Ok;
        }

        return Volatile.Read(ref l.ConsumerDead) != 0 ? L4Status.DestinationDeleted : L4Status.SendTimeout;
    }

    private protected override bool IsReady() => RefreshHead(_want) != L4Status.SendTimeout;

    private protected override string DescribePositions() => $"tail {_tail} (head seen {_head}, reserved at {_reserved}, published {_published})";

    private void ThrowTooLarge(int size) =>
        throw new ArgumentOutOfRangeException(nameof(size), $"a record of {size} bytes does not fit a ring of {Capacity} bytes (at most {MaxRecordSize})");
}
