using BenchmarkDotNet.Attributes;
using L4Rt.Channels;
using L4Rt.Ipc;

namespace L4Rt.Perf.Micro;

/// <summary>
/// The ring's per-record operations on one thread (reserve, commit/publish, read, release on a real channel
/// region), without the cross-core hand-off the multi-process harness measures. Expect 0 B allocated.
/// </summary>
[MemoryDiagnoser]
public class ChannelBenchmarks
{
    private DirectChannelListener _listener = null!;
    private ChannelProducer _producer = null!;
    private ChannelConsumer _consumer = null!;
    private readonly byte[] _payload = new byte[4096];
    private readonly byte[] _destination = new byte[4096];

    [Params(64, 4096)]
    public int RecordSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string path = Path.Combine(Path.GetTempPath(), $"l4rt-micro-{Guid.NewGuid():N}.sock");
        _listener = DirectChannelListener.Listen(path);
        Task<ChannelConsumer> consumer = Task.Run(() => DirectChannel.ConnectConsumer(path, TimeSpan.FromSeconds(10)));
        _producer = _listener.AcceptAsProducer(1 << 20, TimeSpan.FromSeconds(10));
        _consumer = consumer.GetAwaiter().GetResult();
    }

    [Benchmark(Description = "reserve + commit + read + release")]
    public int RoundTrip()
    {
        _producer.Reserve(RecordSize, L4Timeout.Zero, out Span<byte> record);
        record[0] = 1;
        _producer.Commit(RecordSize);
        _consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> read);
        int first = read[0];
        _consumer.Release();
        return first;
    }

    /// <summary>The copying asynchronous pair on data already there: WriteAsync then ReadAsync (0 B expected).</summary>
    [Benchmark(Description = "WriteAsync + ReadAsync")]
    public async ValueTask<int> RoundTripAsync()
    {
        await _producer.WriteAsync(_payload.AsMemory(0, RecordSize)).ConfigureAwait(false);
        (L4Status _, int length) = await _consumer.ReadAsync(_destination).ConfigureAwait(false);
        return length;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _consumer.Dispose();
        _producer.Dispose();
        _listener.Dispose();
    }
}
