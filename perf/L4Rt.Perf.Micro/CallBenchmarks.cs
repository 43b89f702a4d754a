using BenchmarkDotNet.Attributes;
using L4Rt.Ipc;

namespace L4Rt.Perf.Micro;

/// <summary>
/// One Call (post, wait, take the reply) against a ReplyAndWait server on another thread of this process,
/// over a real link region: the slot publish/take protocol without process boundaries, synchronous and awaited.
/// Expect 0 B allocated.
/// </summary>
[MemoryDiagnoser]
public class CallBenchmarks
{
    private L4Thread _server = null!;
    private L4Thread _client = null!;
    private SendLink _link = null!;
    private DirectLinkListener _listener = null!;
    private Thread _serving = null!;
    private readonly MsgTag _tag = new(1, words: 8);

    [GlobalSetup]
    public void Setup()
    {
        string path = Path.Combine(Path.GetTempPath(), $"l4rt-micro-{Guid.NewGuid():N}.sock");
        _server = new L4Thread();
        _client = new L4Thread();
        _listener = DirectLinkListener.Listen(path);
        Task<SendLink> connecting = Task.Run(() => DirectLink.Connect(path, TimeSpan.FromSeconds(10)));
        _listener.Accept(_server, 1, TimeSpan.FromSeconds(10));
        _link = connecting.GetAwaiter().GetResult();
        _serving = new Thread(() =>
        {
            IpcResult msg = _server.Wait(L4Timeout.Never);
            while (msg.IsOk)
            {
                msg = _server.ReplyAndWait(msg.Tag, L4Timeout.Never);
            }
        }) { IsBackground = true };
        _serving.Start();
    }

    [Benchmark]
    public L4Status Call() => _client.Call(_link, _tag, L4Timeout.Never).Status;

    /// <summary>The same call awaited: bounded spin, then the futex reactor (no thread held). Expect 0 B after warm-up.</summary>
    [Benchmark]
    public async ValueTask<L4Status> CallAsync() => (await _client.CallAsync(_link, _tag, L4Timeout.Never).ConfigureAwait(false)).Status;

    [GlobalCleanup]
    public void Cleanup()
    {
        _server.Abort();
        _serving.Join();
        _link.Dispose();
        _listener.Dispose();
        _client.Dispose();
        _server.Dispose();
    }
}
