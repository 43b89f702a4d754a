using BenchmarkDotNet.Attributes;
using L4Rt.Ipc;
using L4Rt.Shared;

namespace L4Rt.Perf.Micro;

/// <summary>
/// One Call (post, wait, take the reply) against a ReplyAndWait server on another thread of this process,
/// over a real link region: the slot publish/take protocol without process boundaries, synchronous and awaited.
/// Expect 0 B allocated.
/// </summary>
[MemoryDiagnoser]
public class CallBenchmarks
{
    private readonly MsgTag _tag = new(1, words: 8);
    private LocalServer _local = null!;
    private L4Thread _client = null!;
    private SendLink _link = null!;

    [GlobalSetup]
    public void Setup()
    {
        _local = new LocalServer(static (_, msg) => msg.Tag); // echo
        (_client, _link) = (_local.Client, _local.Link);
    }

    [Benchmark]
    public L4Status Call() => _client.Call(_link, _tag, L4Timeout.Never).Status;

    /// <summary>The same call awaited: bounded spin, then the futex reactor (no thread held). Expect 0 B after warm-up.</summary>
    [Benchmark]
    public async ValueTask<L4Status> CallAsync() => (await _client.CallAsync(_link, _tag, L4Timeout.Never).ConfigureAwait(false)).Status;

    [GlobalCleanup]
    public void Cleanup() => _local.Dispose();
}
