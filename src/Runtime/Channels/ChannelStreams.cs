using System.IO.Pipelines;
using L4Rt.Ipc;

namespace L4Rt.Channels;

/// <summary>
/// Stream and System.IO.Pipelines adapters, so existing .NET code streams through a channel unchanged. The pipe
/// adapters work in place (the buffers they hand out are ring memory); the stream adapters copy, as a stream must.
/// </summary>
public static class ChannelStreams
{
    /// <summary>A write-only stream: each write becomes records of at most <paramref name="maxRecord"/> bytes; disposing completes the channel.</summary>
    public static Stream AsStream(this ChannelProducer producer, int maxRecord = 64 * 1024) => new ProducerStream(producer, maxRecord);

    /// <summary>A read-only stream over the records, read in order (partial reads keep the rest of a record).</summary>
    public static Stream AsStream(this ChannelConsumer consumer) => new ConsumerStream(consumer);

    /// <summary>
    /// A <see cref="PipeWriter"/> straight over the ring, zero-copy: <see cref="PipeWriter.GetMemory"/> and
    /// <see cref="PipeWriter.GetSpan"/> reserve a record in place and hand out its memory in the ring;
    /// <see cref="PipeWriter.Advance"/> commits what was written as one record (not yet visible);
    /// <see cref="PipeWriter.FlushAsync"/> publishes, and completes synchronously while there is room for the next
    /// record (which it reserves ahead); when the ring is full it waits for room on a pool thread, in 50 ms slices,
    /// honouring its token and <see cref="PipeWriter.CancelPendingFlush"/>. A consumer gone shows as
    /// <see cref="FlushResult.IsCompleted"/>. <see cref="PipeWriter.Complete"/> ends the stream gracefully
    /// (<see cref="ChannelProducer.Complete"/>; with an exception it writes no end: the consumer fails once this end
    /// is disposed); the producer stays the caller's to dispose.
    /// </summary>
    /// <param name="producer">The channel end to write to; one writer at a time.</param>
    /// <param name="recordSize">
    /// The record GetSpan/GetMemory reserve for a smaller (or no) size hint: 0 takes
    /// min(<see cref="ChannelProducer.MaxRecordSize"/>, 16 KiB, a quarter of the ring), so a small ring still holds
    /// several records in flight. A size hint above <see cref="ChannelProducer.MaxRecordSize"/> throws
    /// <see cref="ArgumentOutOfRangeException"/>.
    /// </param>
    /// <remarks>
    /// GetSpan and GetMemory are synchronous, and so is reserving: right after a flush the record is already
    /// reserved; otherwise a full ring (several records advanced without a flush, or a size hint above
    /// <paramref name="recordSize"/>) is first refused at once, then waited for on the calling thread, for at most
    /// 30 s, after which they throw <see cref="IOException"/> (SendTimeout). Publish with FlushAsync to wait without
    /// blocking a thread.
    /// </remarks>
    public static PipeWriter AsPipeWriter(this ChannelProducer producer, int recordSize = 0) => new ChannelPipeWriter(producer, recordSize);

    /// <summary>
    /// A <see cref="PipeReader"/> straight over the ring, zero-copy: a read's buffer is the records available, in
    /// place (one segment per record); <see cref="PipeReader.AdvanceTo(SequencePosition, SequencePosition)"/> releases
    /// the records consumed whole and keeps the rest, a record consumed in part included. A read completes
    /// synchronously when there is data; otherwise it waits on a pool thread, in 50 ms slices, honouring its token and
    /// <see cref="PipeReader.CancelPendingRead"/>. <see cref="ReadResult.IsCompleted"/> once the producer completed;
    /// a producer that died (or a corrupt ring) makes the read throw <see cref="IOException"/> once what it committed
    /// was read. <see cref="PipeReader.Complete"/> releases what is kept; the consumer stays the caller's to dispose.
    /// </summary>
    /// <remarks>
    /// Bytes examined but not consumed while the ring is empty are copied out of the ring before the read waits (the
    /// producer may need their space): a parser waiting for the rest of a message split across records gets it in a
    /// private buffer, once per wait. Records consumed whole are never copied.
    /// </remarks>
    public static PipeReader AsPipeReader(this ChannelConsumer consumer) => new ChannelPipeReader(consumer);

    private sealed class ProducerStream(ChannelProducer producer, int maxRecord) : Stream
    {
        private readonly int _maxRecord = Math.Min(maxRecord, producer.MaxRecordSize);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                int size = Math.Min(buffer.Length, _maxRecord);
                Check(producer.Write(buffer[..size], L4Timeout.Never));
                buffer = buffer[size..];
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (!buffer.IsEmpty)
            {
                int size = Math.Min(buffer.Length, _maxRecord);
                Check(await producer.WriteAsync(buffer[..size], cancellationToken).ConfigureAwait(false));
                buffer = buffer[size..];
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => producer.Publish();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !producer.IsFaulted)
            {
                producer.Complete(L4Timeout.FromMilliseconds(5000));
            }

            base.Dispose(disposing);
        }

        private static void Check(L4Status status)
        {
            if (status != L4Status.Ok)
            {
                throw ThrowHelper.ChannelFailed("write", status);
            }
        }
    }

    private sealed class ConsumerStream(ChannelConsumer consumer) : Stream
    {
        private byte[] _rest = [];
        private int _restOffset;
        private int _restLength;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer) => ReadCore(buffer, L4Timeout.Never);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (true)
            {
                int n = ReadCore(buffer.Span, L4Timeout.Zero, out bool empty);
                if (!empty)
                {
                    return n;
                }

                await consumer.WaitForDataAsync(L4Timeout.Never, cancellationToken).ConfigureAwait(false); // no thread held
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int ReadCore(Span<byte> buffer, L4Timeout timeout) => ReadCore(buffer, timeout, out _);

        /// <summary>Copies from the rest of the current record, else from the next record (released at once).</summary>
        private int ReadCore(Span<byte> buffer, L4Timeout timeout, out bool empty)
        {
            empty = false;
            if (_restLength > 0)
            {
                int n = Math.Min(buffer.Length, _restLength);
                _rest.AsSpan(_restOffset, n).CopyTo(buffer);
                _restOffset += n;
                _restLength -= n;
                return n;
            }

            while (true)
            {
                L4Status status = consumer.Read(timeout, out ReadOnlySpan<byte> record);
                switch (status)
                {
                    case L4Status.Ok when record.IsEmpty:
                        consumer.Release();
                        continue; // an empty record carries nothing for a stream
                    case L4Status.Ok:
                        if (buffer.IsEmpty)
                        {
                            // Only waiting for data (async path): keep the record for the next read.
                            Stash(record);
                            consumer.Release();
                            return 0;
                        }

                        int n = Math.Min(buffer.Length, record.Length);
                        record[..n].CopyTo(buffer);
                        if (n < record.Length)
                        {
                            Stash(record[n..]);
                        }

                        consumer.Release();
                        return n;
                    case L4Status.ReceiveTimeout:
                        empty = true;
                        return 0;
                    case L4Status.DestinationDeleted when consumer.IsCompleted:
                        return 0; // end of stream
                    default:
                        throw ThrowHelper.ChannelFailed("read", status);
                }
            }
        }

        private void Stash(ReadOnlySpan<byte> rest)
        {
            if (_rest.Length < rest.Length)
            {
                _rest = new byte[Math.Max(rest.Length, 4096)];
            }

            rest.CopyTo(_rest);
            _restOffset = 0;
            _restLength = rest.Length;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
