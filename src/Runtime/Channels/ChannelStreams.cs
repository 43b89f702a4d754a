using System.IO.Pipelines;
using L4Rt.Ipc;

namespace L4Rt.Channels;

/// <summary>Stream and System.IO.Pipelines adapters, so existing .NET code streams through a channel unchanged.</summary>
public static class ChannelStreams
{
    /// <summary>A write-only stream: each write becomes records of at most <paramref name="maxRecord"/> bytes; disposing completes the channel.</summary>
    public static Stream AsStream(this ChannelProducer producer, int maxRecord = 64 * 1024) => new ProducerStream(producer, maxRecord);

    /// <summary>A read-only stream over the records, read in order (partial reads keep the rest of a record).</summary>
    public static Stream AsStream(this ChannelConsumer consumer) => new ConsumerStream(consumer);

    /// <summary>A <see cref="PipeWriter"/> over the channel (through the stream adapter).</summary>
    public static PipeWriter AsPipeWriter(this ChannelProducer producer, int maxRecord = 64 * 1024) =>
        PipeWriter.Create(producer.AsStream(maxRecord), new StreamPipeWriterOptions(minimumBufferSize: Math.Min(maxRecord, 16 * 1024)));

    /// <summary>A <see cref="PipeReader"/> over the channel (through the stream adapter).</summary>
    public static PipeReader AsPipeReader(this ChannelConsumer consumer) => PipeReader.Create(consumer.AsStream());

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
                throw new IOException($"channel write failed: {status}", new L4RtException(status, status.ToString()));
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

                await Task.Run(() => ReadCore(Span<byte>.Empty, L4Timeout.FromMilliseconds(50), out _), cancellationToken).ConfigureAwait(false);
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
                        throw new IOException($"channel read failed: {status}", new L4RtException(status, status.ToString()));
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
