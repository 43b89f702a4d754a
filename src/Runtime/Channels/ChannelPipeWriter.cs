using System.IO.Pipelines;
using L4Rt.Ipc;
using L4Rt.Memory;

namespace L4Rt.Channels;

/// <summary>
/// A <see cref="PipeWriter"/> straight over the ring (see <see cref="ChannelStreams.AsPipeWriter"/>): the memory
/// <see cref="GetMemory"/> hands out is a record reserved in place, <see cref="Advance"/> commits it, and
/// <see cref="FlushAsync"/> publishes. Nothing is copied. Not thread-safe, as the producer it wraps.
/// </summary>
internal sealed class ChannelPipeWriter : PipeWriter
{
    /// <summary>How long <see cref="GetSpan"/> blocks for room before it gives up with an <see cref="IOException"/>.</summary>
    internal static readonly TimeSpan ReserveBound = TimeSpan.FromSeconds(30);

    private static readonly L4Timeout s_completeTimeout = L4Timeout.FromMilliseconds(5000); // as the stream adapter's Dispose
    private static readonly L4Timeout s_slice = L4Timeout.FromMilliseconds(50); // a waiting flush notices CancelPendingFlush within a slice (a token at once)

    private readonly ChannelProducer _producer;
    private readonly RingMemory _ring;
    private readonly int _recordSize;
    private Memory<byte> _reserved; // the open reservation (empty when none): what GetMemory returned, or FlushAsync reserved ahead
    private long _unflushed;
    private int _cancelFlush;
    private bool _flushing; // a FlushAsync waits on a pool thread: the producer is its until it returns
    private bool _completed;

    internal ChannelPipeWriter(ChannelProducer producer, int recordSize)
    {
        int max = producer.MaxRecordSize;
        if (recordSize < 0 || recordSize > max)
        {
            throw new ArgumentOutOfRangeException(nameof(recordSize), recordSize, $"a record of this ring holds 0 to {max} bytes (0: the default)");
        }

        _producer = producer;
        _ring = new RingMemory(producer.Region);
        _recordSize = recordSize != 0 ? recordSize : (int)Math.Min(Math.Min(max, 16 * 1024), producer.Capacity / 4);
    }

    public override bool CanGetUnflushedBytes => true;

    /// <summary>Bytes advanced (committed) since the last flush.</summary>
    public override long UnflushedBytes => _unflushed;

    public override Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).Span;

    public override void Advance(int bytes)
    {
        CheckWriting();
        if ((uint)bytes > (uint)_reserved.Length)
        {
            ThrowHelper.ThrowAdvanceOutOfRange(bytes, _reserved.Length);
        }

        if (bytes == 0)
        {
            return; // nothing written: the reservation stays for the next GetSpan (an empty record would carry nothing)
        }

        _producer.Commit(bytes, publish: false);
        _reserved = default;
        _unflushed += bytes;
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        CheckWriting();
        _producer.Publish();
        _unflushed = 0;
        if (Interlocked.Exchange(ref _cancelFlush, 0) != 0)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: true, isCompleted: false));
        }

        // The flush is where a writer waits for room (as Pipe's flush waits past its pause threshold): room for the
        // next record is reserved now, so the GetSpan that follows neither waits nor touches the ring.
        L4Status status = _reserved.Length >= _recordSize ? L4Status.Ok : ReserveAhead(L4Timeout.Zero);
        return status == L4Status.SendTimeout ? FlushSlowAsync(cancellationToken) : new ValueTask<FlushResult>(Result(status));
    }

    /// <summary>The ring was full: waits for room without holding a thread (the token ends it at once, CancelPendingFlush within a slice).</summary>
    private async ValueTask<FlushResult> FlushSlowAsync(CancellationToken cancellationToken)
    {
        _flushing = true;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (Interlocked.Exchange(ref _cancelFlush, 0) != 0)
                {
                    return new FlushResult(isCanceled: true, isCompleted: false);
                }

                L4Status room = await _producer.WaitForRoomAsync(_recordSize, s_slice, cancellationToken).ConfigureAwait(false); // no thread held; the slice notices CancelPendingFlush
                L4Status status = room == L4Status.Ok ? ReserveAhead(L4Timeout.Zero) : room;
                if (status != L4Status.SendTimeout)
                {
                    return Result(status);
                }
            }
        }
        finally
        {
            _flushing = false;
        }
    }

    private L4Status ReserveAhead(L4Timeout timeout)
    {
        L4Status status = _producer.Reserve(_recordSize, timeout, out Span<byte> record);
        if (status == L4Status.Ok)
        {
            _reserved = _ring.Of(record);
        }

        return status;
    }

    /// <summary>A flush's outcome: a consumer gone means nobody reads on (<see cref="FlushResult.IsCompleted"/>), as a completed Pipe reader does.</summary>
    private static FlushResult Result(L4Status status) => status switch
    {
        L4Status.Ok => new FlushResult(isCanceled: false, isCompleted: false),
        L4Status.DestinationDeleted => new FlushResult(isCanceled: false, isCompleted: true),
        _ => throw ThrowHelper.ChannelFailed("write", status),
    };

    public override void CancelPendingFlush() => Volatile.Write(ref _cancelFlush, 1);

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        CheckNotFlushing();
        _completed = true;
        _reserved = default;
        if (exception == null)
        {
            End(_producer.Complete(s_completeTimeout));
        }
    }

    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        if (_completed || exception != null)
        {
            Complete(exception);
            return ValueTask.CompletedTask;
        }

        CheckNotFlushing();
        L4Status status = _producer.Complete(L4Timeout.Zero);
        if (status != L4Status.SendTimeout)
        {
            _completed = true;
            _reserved = default;
            End(status);
            return ValueTask.CompletedTask;
        }

        return new ValueTask(Task.Run(() => Complete(null))); // the end record waits for room: not on the caller's thread
    }

    /// <summary>The end record's outcome: a consumer gone (or the producer disposed) has nothing left to learn.</summary>
    private static void End(L4Status status)
    {
        if (status is not (L4Status.Ok or L4Status.DestinationDeleted or L4Status.Aborted))
        {
            throw ThrowHelper.ChannelFailed("write", status);
        }
    }

    private Memory<byte> Reserve(int sizeHint)
    {
        CheckWriting();
        int max = _producer.MaxRecordSize;
        if ((uint)sizeHint > (uint)max)
        {
            ThrowHelper.ThrowSizeHintTooLarge(sizeHint, _producer.Capacity, max);
        }

        if (_reserved.Length >= Math.Max(sizeHint, 1))
        {
            return _reserved; // still open: no Advance since (as Pipe hands out the same buffer again)
        }

        // GetSpan is synchronous: a full ring is first refused at once, then waited for on this thread, bounded.
        int size = Math.Max(sizeHint, _recordSize);
        L4Status status = _producer.Reserve(size, L4Timeout.Zero, out Span<byte> record);
        if (status == L4Status.SendTimeout)
        {
            status = _producer.Reserve(size, L4Timeout.FromTimeSpan(ReserveBound), out record);
        }

        if (status != L4Status.Ok)
        {
            throw ThrowHelper.ChannelFailed("write", status);
        }

        _reserved = _ring.Of(record);
        return _reserved;
    }

    private void CheckWriting()
    {
        if (_completed)
        {
            ThrowHelper.ThrowPipeCompleted(writer: true);
        }

        CheckNotFlushing();
    }

    private void CheckNotFlushing()
    {
        if (_flushing)
        {
            ThrowHelper.ThrowFlushPending();
        }
    }
}
