using System.Runtime.CompilerServices;
using L4Rt.Ipc;
using L4Rt.Memory;

namespace L4Rt.Channels;

/// <summary>
/// The consuming end of a zero-copy FIFO channel: read a record in place, then release it (release several
/// at once by reading on and calling <see cref="Release"/> once). A span from <see cref="Read(L4Timeout, out ReadOnlySpan{byte})"/>
/// stays valid until <see cref="Release"/>, or until a read (or <see cref="WaitForData"/>) finds the ring empty and
/// has to wait: that releases everything read so far first, because the producer may be waiting for exactly that
/// space, and both sides would sleep until their timeouts (as <see cref="ChannelProducer.Reserve"/> publishes its
/// pending commits before it waits). A read with <see cref="L4Timeout.Zero"/> never waits, so never releases: use it
/// to hold several records at once. The producer cannot overwrite a span before it is released. Not thread-safe: one
/// consumer thread at a time. Everything read from the ring is validated first: a corrupt ring faults the
/// channel with <see cref="L4Status.ProtocolViolation"/>, never an out-of-bounds read.
/// </summary>
public sealed class ChannelConsumer : ChannelEndpoint
{
    private long _head;   // released position (published)
    private long _cursor; // read position (records read, not yet released)
    private long _tail;   // last validated tail seen from the producer

    internal ChannelConsumer(ChannelRegion region)
        : base(region, producer: false)
    {
    }

    /// <summary>True when the producer closed the channel (graceful end, as opposed to dying).</summary>
    public bool IsCompleted { get; private set; }

    /// <summary>Committed bytes not yet read (as last seen).</summary>
    public long BytesAvailable => _tail - _cursor;

    /// <summary>
    /// Reads the next record in place. <see cref="L4Timeout.Zero"/>: <see cref="L4Status.ReceiveTimeout"/> at once
    /// when the ring is empty. Any other timeout, when the ring is empty: releases the records read before (their
    /// spans end), then waits. After the producer is gone (closed or dead) and everything committed was read:
    /// <see cref="L4Status.DestinationDeleted"/> (see <see cref="IsCompleted"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public L4Status Read(L4Timeout timeout, out ReadOnlySpan<byte> record)
    {
        record = default;
        if (!Enter())
        {
            return L4Status.Aborted;
        }

        try
        {
            return ReadCore(timeout, out record);
        }
        finally
        {
            Exit();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private L4Status ReadCore(L4Timeout timeout, out ReadOnlySpan<byte> record)
    {
        L4Status status = TryNext(out record);
        if (status != L4Status.ReceiveTimeout || timeout.IsZero)
        {
            return status;
        }

        ReleaseBeforeWaiting();
        long deadline = Deadline(timeout);
        ref ChannelLayout l = ref Region.Layout;
        while (status == L4Status.ReceiveTimeout && System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
        {
            WaitUntilReady(ref l.ConsumerWaiting, ref l.DataWake, ref l.ConsumerAsleepSince, deadline);
            status = IsDisposed ? L4Status.Aborted : TryNext(out record);
        }

        return status;
    }

    /// <summary>Releases every record read so far: the producer may reuse their space.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Release()
    {
        if (_head == _cursor || !Enter())
        {
            return;
        }

        try
        {
            ReleaseCore();
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>The position after the last record read: what <see cref="ReleaseUpTo"/> takes to release up to it.</summary>
    internal long ReadPosition => _cursor;

    /// <summary>
    /// Releases the records read up to <paramref name="position"/> (a <see cref="ReadPosition"/> seen after reading
    /// one of them) and keeps those read after it: the pipe reader's partial <c>AdvanceTo</c>. A position released
    /// already is no work (reading the end record releases everything read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void ReleaseUpTo(long position)
    {
        if (position > _cursor)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"a release beyond the records read (up to {_cursor})");
        }

        if (position <= _head || !Enter())
        {
            return;
        }

        try
        {
            ReleaseCore(position);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Off the fast path (the ring was empty): records read but not released may be the very space a blocked
    /// producer waits for, so they are released before this side waits too.
    /// </summary>
    private void ReleaseBeforeWaiting()
    {
        if (_head != _cursor)
        {
            ReleaseCore();
        }
    }

    private void ReleaseCore() => ReleaseCore(_cursor);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReleaseCore(long position)
    {
        _head = position;
        ref ChannelLayout l = ref Region.Layout;
        PublishPosition(ref l.Head, _head, ref l.ProducerFences);
        WakeIfWaiting(ref l.ProducerWaiting, ref l.SpaceWake, ref l.ProducerAsleepSince);
    }

    /// <summary>
    /// Copying API: copies the next record into <paramref name="destination"/> and releases it (the timeout as in
    /// <see cref="Read(L4Timeout, out ReadOnlySpan{byte})"/>). A record longer than the destination stays unread and gives
    /// <see cref="L4Status.BufferTooSmall"/> with its <paramref name="length"/>: retry with a destination that large.
    /// </summary>
    /// <returns>The status; <paramref name="length"/> is the record's length (also when it did not fit).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public L4Status Read(Span<byte> destination, L4Timeout timeout, out int length)
    {
        L4Status status = Read(timeout, out ReadOnlySpan<byte> record);
        length = record.Length;
        if (status != L4Status.Ok)
        {
            return status;
        }

        if (record.Length > destination.Length)
        {
            Unread(record.Length); // the next read returns the same record
            return L4Status.BufferTooSmall;
        }

        record.CopyTo(destination);
        Release();
        return L4Status.Ok;
    }

    /// <summary>
    /// The records, read in place, as an async stream: each <see cref="ReadOnlyMemory{T}"/> is valid until the next
    /// iteration, which releases it. Ends when the producer completes; throws <see cref="IOException"/> if it dies
    /// or the ring is corrupt. Waiting for data holds no thread (<see cref="WaitForDataAsync"/>); cancellation ends it at once.
    /// </summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Memory.RingMemory ring = new(Region);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            L4Status status = Read(L4Timeout.Zero, out ReadOnlySpan<byte> record);
            if (status == L4Status.Ok)
            {
                yield return ring.Of(record);
                Release();
                continue;
            }

            if (status == L4Status.ReceiveTimeout)
            {
                await WaitForDataAsync(L4Timeout.Never, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (status == L4Status.DestinationDeleted && IsCompleted)
            {
                yield break;
            }

            throw ThrowHelper.ChannelFailed("read", status);
        }
    }

    /// <summary>
    /// Waits until a record (or the end, or a fault) is there, without taking it. A wait that is not
    /// <see cref="L4Timeout.Zero"/> releases the records read so far first, as a blocking read does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public L4Status WaitForData(L4Timeout timeout)
    {
        if (!Enter())
        {
            return L4Status.Aborted;
        }

        try
        {
            L4Status next = Peek();
            if (next != L4Status.ReceiveTimeout)
            {
                return L4Status.Ok;
            }

            if (!timeout.IsZero)
            {
                ReleaseBeforeWaiting();
                long deadline = Deadline(timeout);
                ref ChannelLayout l = ref Region.Layout;
                while (next == L4Status.ReceiveTimeout && !IsDisposed && System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
                {
                    WaitUntilReady(ref l.ConsumerWaiting, ref l.DataWake, ref l.ConsumerAsleepSince, deadline); // also wakes for a padding record: look again
                    next = Peek();
                }
            }

            return IsDisposed ? L4Status.Aborted : next == L4Status.ReceiveTimeout ? L4Status.ReceiveTimeout : L4Status.Ok;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Asynchronous copying read: completes synchronously when a record is there; otherwise waits without holding a
    /// thread (<see cref="WaitForDataAsync"/>). A destination too small gives <see cref="L4Status.BufferTooSmall"/> with
    /// the length needed, the record unread. Cancellation throws <see cref="OperationCanceledException"/> at once.
    /// </summary>
    public ValueTask<(L4Status Status, int Length)> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<(L4Status, int)>(cancellationToken);
        }

        L4Status status = Read(destination.Span, L4Timeout.Zero, out int length);
        return status != L4Status.ReceiveTimeout ? ValueTask.FromResult((status, length)) : ReadAsyncCore(destination, cancellationToken);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(L4Status, int)> ReadAsyncCore(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            await WaitForDataAsync(L4Timeout.Never, cancellationToken).ConfigureAwait(false);
            L4Status status = Read(destination.Span, L4Timeout.Zero, out int length);
            if (status != L4Status.ReceiveTimeout)
            {
                return (status, length);
            }
        }
    }

    /// <summary>
    /// <see cref="WaitForData"/> without holding an OS thread: data already there completes synchronously; otherwise the
    /// process's futex reactor sleeps on the ring's data-ready word (with every other asynchronous waiter, one
    /// <c>futex_waitv</c>) and the continuation runs on the thread pool. Cancellation throws
    /// <see cref="OperationCanceledException"/> within microseconds. No allocation per wait after the first.
    /// </summary>
    public ValueTask<L4Status> WaitForDataAsync(L4Timeout timeout, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<L4Status>(cancellationToken);
        }

        L4Status now = WaitForData(L4Timeout.Zero);
        return now != L4Status.ReceiveTimeout || timeout.IsZero ? ValueTask.FromResult(now) : WaitForDataAsyncCore(timeout, cancellationToken);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<L4Status> WaitForDataAsyncCore(L4Timeout timeout, CancellationToken cancellationToken)
    {
        if (!Enter())
        {
            return L4Status.Aborted;
        }

        try
        {
            ReleaseBeforeWaiting();
            long deadline = Deadline(timeout);
            while (true)
            {
                if (Peek() != L4Status.ReceiveTimeout)
                {
                    return L4Status.Ok;
                }

                if (IsDisposed)
                {
                    return L4Status.Aborted;
                }

                if (System.Diagnostics.Stopwatch.GetTimestamp() >= deadline)
                {
                    return L4Status.ReceiveTimeout;
                }

                (nint waiting, nint wake, nint asleepSince) = WaitWords();
                FutexWake how = await WaitUntilReadyAsync(waiting, wake, asleepSince, deadline, cancellationToken).ConfigureAwait(false);
                Disarm(waiting);
                if (how == FutexWake.Canceled)
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

    private (nint Waiting, nint Wake, nint AsleepSince) WaitWords()
    {
        ref ChannelLayout l = ref Region.Layout;
        return (AddressOf(ref l.ConsumerWaiting), AddressOf(ref l.DataWake), AddressOf(ref l.ConsumerAsleepSince));
    }

    private protected override bool IsReady()
    {
        if (IsFaulted || _cursor != _tail)
        {
            return true;
        }

        ref ChannelLayout l = ref Region.Layout;
        return Volatile.Read(ref l.Tail) != _tail || Volatile.Read(ref l.ProducerDead) != 0;
    }

    /// <summary>Whether a record (or the end, or a fault) is next, stepping over padding but taking nothing.</summary>
    private L4Status Peek()
    {
        L4Status status = TryNext(out ReadOnlySpan<byte> record);
        if (status == L4Status.Ok)
        {
            Unread(record.Length);
        }

        return status;
    }

    /// <summary>Steps back over the record just read (only it: padding stepped over before it may be released already).</summary>
    private void Unread(int length)
    {
        _cursor -= ChannelLayout.RecordHeader + ChannelLayout.Align8(length);
        Records--;
        Bytes -= length;
    }

    private protected override string DescribePositions() => $"head {_head} cursor {_cursor} (tail seen {_tail}, completed {IsCompleted})";

    /// <summary>One non-blocking step: the next record, or why there is none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private L4Status TryNext(out ReadOnlySpan<byte> record)
    {
        record = default;
        if (IsFaulted)
        {
            return L4Status.ProtocolViolation;
        }

        long capacity = Capacity;
        while (true)
        {
            if (_cursor == _tail)
            {
                ref ChannelLayout l = ref Region.Layout;
                bool producerDead = Volatile.Read(ref l.ProducerDead) != 0; // read before Tail: a final publish is not missed
                long tail = Volatile.Read(ref l.Tail); // acquire: pairs with the producer's publish of the records before it
                if (tail < _tail || tail - _head > capacity || (tail & 7) != 0)
                {
                    return Fault(); // no honest producer moves backwards, overruns unreleased data, or misaligns
                }

                _tail = tail;
                if (_cursor == _tail)
                {
                    return producerDead || IsCompleted ? L4Status.DestinationDeleted : L4Status.ReceiveTimeout;
                }
            }

            long offset = _cursor & (capacity - 1);
            ulong header = Volatile.Read(ref Region.HeaderAt(offset)); // read once; only the locals below are used
            long length = (uint)header;
            uint flags = (uint)(header >> 32);
            if (flags == ChannelLayout.PaddingFlag)
            {
                long pad = capacity - offset;
                if (length != pad - ChannelLayout.RecordHeader || _cursor + pad > _tail)
                {
                    return Fault();
                }

                // Padding holds nothing to read: when nothing before it is held, it is released at once, so a
                // producer waiting for room at offset 0 need not wait for this side's next release.
                bool nothingHeld = _head == _cursor;
                _cursor += pad;
                if (nothingHeld)
                {
                    ReleaseCore();
                }

                continue;
            }

            if (flags == ChannelLayout.EndFlag)
            {
                _cursor += ChannelLayout.RecordHeader;
                IsCompleted = true;
                if (_head != _cursor)
                {
                    ReleaseCore();
                }

                continue;
            }

            long need = ChannelLayout.RecordHeader + ChannelLayout.Align8(length);
            if (flags != 0 || offset + need > capacity || _cursor + need > _tail)
            {
                return Fault();
            }

            record = Region.Slice(offset + ChannelLayout.RecordHeader, (int)length);
            _cursor += need;
            Records++;
            Bytes += length;
            return L4Status.Ok;
        }
    }
}
