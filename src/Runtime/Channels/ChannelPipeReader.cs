using System.Buffers;
using System.IO.Pipelines;
using L4Rt.Ipc;
using L4Rt.Memory;

namespace L4Rt.Channels;

/// <summary>
/// A <see cref="PipeReader"/> straight over the ring (see <see cref="ChannelStreams.AsPipeReader"/>): a read's buffer
/// is the records available, in place, one segment each; <see cref="AdvanceTo(SequencePosition, SequencePosition)"/>
/// releases the records consumed whole and keeps the rest (a record consumed in part stays, from where it was
/// consumed). Segments are reused from read to read: a steady stream allocates nothing. Not thread-safe, as the
/// consumer it wraps (<see cref="CancelPendingRead"/> excepted).
/// </summary>
/// <remarks>
/// The one copy: a read that must wait (everything handed out was examined, and the ring is empty) first copies
/// the bytes still kept into a private buffer and releases the ring, because the producer may be waiting for
/// exactly that space (see <see cref="ChannelConsumer"/>: a waiting read releases what was read). A parser that
/// consumes whole records never hits it; one that waits for the rest of a message split across records does,
/// once per wait, and its buffer then starts with that copy. Like StreamPipeReader's, the kept bytes are not
/// bounded: a reader that never consumes keeps all it was sent.
/// </remarks>
internal sealed class ChannelPipeReader : PipeReader
{
    /// <summary>Records one read adds when the reader asked for nothing more (it reads on past them if it did).</summary>
    private const int SegmentsPerRead = 256;

    private static readonly L4Timeout s_slice = L4Timeout.FromMilliseconds(50); // a waiting read notices CancelPendingRead within a slice (a token at once)

    private readonly ChannelConsumer _consumer;
    private readonly RingMemory _ring;
    private Segment[] _segments = new Segment[8]; // [0, _count) are kept, in stream order; the rest are spare, for reuse
    private int _count;
    private long _length; // bytes in the kept segments
    private byte[]? _copy; // the kept bytes copied out of the ring before a wait (the first segment then points here)
    private bool _handedOut; // a ReadResult is out: AdvanceTo is next
    private bool _waiting; // a read waits on a pool thread: the consumer is its until it returns
    private bool _examinedAll; // the last AdvanceTo examined everything: only new data completes a read
    private bool _completed;
    private int _cancelRead;

    internal ChannelPipeReader(ChannelConsumer consumer)
    {
        _consumer = consumer;
        _ring = new RingMemory(consumer.Region);
        for (int i = 0; i < _segments.Length; i++)
        {
            _segments[i] = new Segment();
        }
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        CheckReadable();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ReadResult>(cancellationToken);
        }

        return TryReadCore(newDataOnly: _examinedAll, out ReadResult result) ? new ValueTask<ReadResult>(result) : ReadSlowAsync(cancellationToken);
    }

    public override bool TryRead(out ReadResult result)
    {
        CheckReadable();
        return TryReadCore(newDataOnly: false, out result);
    }

    /// <summary>The ring is empty: waits without holding a thread (the token ends it at once; CancelPendingRead within a slice), holding nothing of the ring.</summary>
    private async ValueTask<ReadResult> ReadSlowAsync(CancellationToken cancellationToken)
    {
        _waiting = true;
        try
        {
            CopyKeptOutOfTheRing();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await _consumer.WaitForDataAsync(s_slice, cancellationToken).ConfigureAwait(false); // no thread held; the slice notices CancelPendingRead
                if (TryReadCore(newDataOnly: true, out ReadResult result))
                {
                    return result;
                }
            }
        }
        finally
        {
            _waiting = false;
        }
    }

    /// <summary>
    /// Takes every record there is (zero timeout: nothing is released) and hands out what is kept when that is worth
    /// a result: new data, or old data not examined yet, or the end, or a pending cancellation.
    /// </summary>
    private bool TryReadCore(bool newDataOnly, out ReadResult result)
    {
        if (Interlocked.Exchange(ref _cancelRead, 0) != 0)
        {
            result = Hand(canceled: true, completed: false);
            return true;
        }

        L4Status status = TakeAvailable(out bool grew);
        bool completed = status == L4Status.DestinationDeleted && _consumer.IsCompleted;
        if (grew || completed || (_count > 0 && !newDataOnly))
        {
            result = Hand(canceled: false, completed);
            return true;
        }

        if (status != L4Status.ReceiveTimeout)
        {
            throw ThrowHelper.ChannelFailed("read", status);
        }

        result = default;
        return false;
    }

    /// <summary>Reads the records there are into segments; a failure is returned after the records before it.</summary>
    private L4Status TakeAvailable(out bool grew)
    {
        grew = false;
        while (true)
        {
            if (grew && _count >= SegmentsPerRead)
            {
                return L4Status.Ok;
            }

            L4Status status = _consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> record);
            if (status != L4Status.Ok)
            {
                if (_count == 0)
                {
                    _consumer.Release(); // empty records read before: nothing keeps them
                }

                return status;
            }

            if (!record.IsEmpty)
            {
                Keep(_ring.Of(record), _consumer.ReadPosition);
                grew = true;
            }
        }
    }

    private void Keep(ReadOnlyMemory<byte> memory, long releaseTo)
    {
        if (_count == _segments.Length)
        {
            Segment[] more = new Segment[_segments.Length * 2];
            _segments.CopyTo(more, 0);
            for (int i = _segments.Length; i < more.Length; i++)
            {
                more[i] = new Segment();
            }

            _segments = more;
        }

        _segments[_count++].Set(memory, releaseTo);
        _length += memory.Length;
    }

    /// <summary>Links the kept segments into the buffer a read hands out.</summary>
    private ReadResult Hand(bool canceled, bool completed)
    {
        _handedOut = true;
        if (_count == 0)
        {
            return new ReadResult(ReadOnlySequence<byte>.Empty, canceled, completed);
        }

        long running = 0;
        for (int i = 0; i < _count; i++)
        {
            Segment segment = _segments[i];
            segment.Link(i + 1 < _count ? _segments[i + 1] : null, running, i);
            running += segment.Memory.Length;
        }

        Segment last = _segments[_count - 1];
        return new ReadResult(new ReadOnlySequence<byte>(_segments[0], 0, last, last.Memory.Length), canceled, completed);
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!_handedOut)
        {
            ThrowHelper.ThrowAdvanceToWithoutRead();
        }

        long consumedAt = Offset(consumed, nameof(consumed));
        long examinedAt = Offset(examined, nameof(examined));
        if (examinedAt < consumedAt)
        {
            ThrowHelper.ThrowExaminedBeforeConsumed();
        }

        _handedOut = false;
        _examinedAll = examinedAt == _length;
        Drop(consumedAt);
    }

    /// <summary>Forgets the first <paramref name="bytes"/> kept: records consumed whole go back to the ring, a record consumed in part stays.</summary>
    private void Drop(long bytes)
    {
        int whole = 0;
        long releaseTo = -1;
        long left = bytes;
        while (whole < _count && left >= _segments[whole].Memory.Length)
        {
            Segment segment = _segments[whole++];
            left -= segment.Memory.Length;
            releaseTo = segment.ReleaseTo >= 0 ? segment.ReleaseTo : releaseTo;
        }

        if (left > 0)
        {
            _segments[whole].Consume((int)left);
        }

        if (whole > 0 && whole < _count)
        {
            // Rotate the kept ones to the front, the consumed ones behind them (spare, for reuse): no allocation.
            Array.Reverse(_segments, 0, whole);
            Array.Reverse(_segments, whole, _count - whole);
            Array.Reverse(_segments, 0, _count);
        }

        _count -= whole;
        _length -= bytes;
        if (_count == 0)
        {
            _consumer.Release(); // also the empty records after the last one kept
        }
        else if (releaseTo >= 0)
        {
            _consumer.ReleaseUpTo(releaseTo);
        }
    }

    /// <summary>
    /// Before a wait (which releases whatever was read): the bytes still kept move to the private buffer, so the
    /// producer may reuse their ring space while this side sleeps, and the next read still starts with them.
    /// </summary>
    private void CopyKeptOutOfTheRing()
    {
        if (_count == 0 || (_count == 1 && _segments[0].ReleaseTo < 0))
        {
            return; // nothing of the ring is kept
        }

        byte[] target = _copy != null && _copy.Length >= _length ? _copy : ArrayPool<byte>.Shared.Rent(checked((int)Math.Max(_length, 4096)));
        int at = 0;
        for (int i = 0; i < _count; i++)
        {
            ReadOnlySpan<byte> kept = _segments[i].Memory.Span;
            kept.CopyTo(target.AsSpan(at)); // memmove: the private copy may be moved within its own buffer
            at += kept.Length;
        }

        if (_copy != null && target != _copy)
        {
            ArrayPool<byte>.Shared.Return(_copy);
        }

        _copy = target;
        _count = 0;
        _length = 0;
        _consumer.Release();
        Keep(_copy.AsMemory(0, at), releaseTo: -1);
    }

    public override void CancelPendingRead() => Volatile.Write(ref _cancelRead, 1);

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        _count = 0;
        _length = 0;
        _consumer.Release();
        if (_copy != null)
        {
            ArrayPool<byte>.Shared.Return(_copy);
            _copy = null;
        }
    }

    /// <summary>Where <paramref name="position"/> lies in the buffer handed out, in bytes from its start.</summary>
    private long Offset(SequencePosition position, string name)
    {
        object? segment = position.GetObject();
        int index = position.GetInteger();
        if (segment is Segment s && s.Index < _count && _segments[s.Index] == s && (uint)index <= (uint)s.Memory.Length)
        {
            return s.RunningIndex + index;
        }

        if (_count == 0 && segment is not Segment && index == 0)
        {
            return 0; // the empty buffer's start and end
        }

        ThrowHelper.ThrowPositionOutsideBuffer(name);
        return 0;
    }

    private void CheckReadable()
    {
        if (_completed)
        {
            ThrowHelper.ThrowPipeCompleted(writer: false);
        }

        if (_handedOut || _waiting)
        {
            ThrowHelper.ThrowAlreadyReading();
        }
    }

    /// <summary>One kept record (or the private copy) as a buffer segment; reused from read to read.</summary>
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        /// <summary>The consumer position after this record (release up to it once it is consumed); -1 for the private copy.</summary>
        internal long ReleaseTo { get; private set; }

        /// <summary>This segment's place among the kept ones, as of the last read.</summary>
        internal int Index { get; private set; } = -1;

        internal void Set(ReadOnlyMemory<byte> memory, long releaseTo)
        {
            Memory = memory;
            ReleaseTo = releaseTo;
            Next = null;
            Index = -1;
        }

        internal void Consume(int bytes) => Memory = Memory[bytes..];

        internal void Link(Segment? next, long runningIndex, int index)
        {
            Next = next;
            RunningIndex = runningIndex;
            Index = index;
        }
    }
}
