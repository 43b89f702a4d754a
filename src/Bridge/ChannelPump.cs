using System.Buffers.Binary;
using Google.Protobuf;
using Grpc.Core;
using L4Rt.Bridge.Wire;
using L4Rt.Channels;
using L4Rt.Ipc;

namespace L4Rt.Bridge;

/// <summary>
/// Moves the records of one bridged FIFO channel between a local channel end and a gRPC stream, in batches of up to
/// 64 KiB. Back-pressure is end to end: a full remote ring stops the remote writer, whose stream stops reading, so
/// HTTP/2 flow control stops our writes, and we stop reading the local ring, which fills and stops the local producer.
/// </summary>
internal static class ChannelPump
{
    private const int BatchBytes = 64 * 1024;

    /// <summary>Local consumer end → stream; ends with a <see cref="StreamEnd"/> saying whether the producer completed.</summary>
    internal static async Task OutAsync(ChannelConsumer consumer, Func<ChannelFrame, Task> send, CancellationToken ct)
    {
        byte[] record = new byte[64 * 1024];
        byte[] batch = new byte[BatchBytes + 4 + record.Length];
        while (true)
        {
            (L4Status status, int length) = await consumer.ReadAsync(record, ct).ConfigureAwait(false);
            if (status == L4Status.BufferTooSmall)
            {
                record = new byte[length];
                batch = new byte[BatchBytes + 4 + length];
                continue;
            }

            if (status != L4Status.Ok)
            {
                await send(new ChannelFrame { End = new StreamEnd { Completed = consumer.IsCompleted } }).ConfigureAwait(false);
                return;
            }

            int used = Append(batch, 0, record.AsSpan(0, length));
            // Whatever else is there already goes in the same frame (the batch has room for one more record of any size
            // the buffer takes while under BatchBytes; a bigger record waits for the next ReadAsync, which grows the buffer).
            while (used < BatchBytes && consumer.Read(record, L4Timeout.Zero, out int next) == L4Status.Ok)
            {
                used = Append(batch, used, record.AsSpan(0, next));
            }

            await send(Records(batch, used)).ConfigureAwait(false);
        }
    }

    /// <summary>Stream → local producer end. Returns when the sender ended (completing the channel if it did) or the local consumer is gone.</summary>
    internal static async Task InAsync(IAsyncStreamReader<ChannelFrame> frames, ChannelProducer producer, CancellationToken ct)
    {
        while (await frames.MoveNext(ct).ConfigureAwait(false))
        {
            ChannelFrame frame = frames.Current;
            switch (frame.KindCase)
            {
                case ChannelFrame.KindOneofCase.Records:
                    ReadOnlyMemory<byte> data = frame.Records.Memory;
                    while (data.Length > 0)
                    {
                        // The peer's bytes: a length that fits what is left of the frame and the ring.
                        if (data.Length < 4)
                        {
                            throw new RpcException(new Status(StatusCode.InvalidArgument, "a record frame ends inside a length"));
                        }

                        int length = BinaryPrimitives.ReadInt32LittleEndian(data.Span);
                        if (length < 0 || length > data.Length - 4 || length > producer.MaxRecordSize)
                        {
                            throw new RpcException(new Status(StatusCode.InvalidArgument, $"a record of {length} bytes does not fit the frame or the ring"));
                        }

                        L4Status written = await producer.WriteAsync(data.Slice(4, length), ct).ConfigureAwait(false);
                        if (written != L4Status.Ok)
                        {
                            return; // the local consumer is gone: the stream ends, and with it the remote producer's end
                        }

                        data = data[(4 + length)..];
                    }

                    break;
                case ChannelFrame.KindOneofCase.End:
                    if (frame.End.Completed)
                    {
                        producer.Complete(L4Timeout.FromSeconds(5));
                    }

                    return;
                default:
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"unexpected {frame.KindCase} on a channel stream"));
            }
        }
    }

    private static int Append(byte[] batch, int used, ReadOnlySpan<byte> record)
    {
        BinaryPrimitives.WriteInt32LittleEndian(batch.AsSpan(used), record.Length);
        record.CopyTo(batch.AsSpan(used + 4));
        return used + 4 + record.Length;
    }

    private static ChannelFrame Records(byte[] batch, int used) => new() { Records = ByteString.CopyFrom(batch, 0, used) };
}
