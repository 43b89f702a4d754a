using BenchmarkDotNet.Attributes;
using L4Rt.Contracts;
using L4Rt.Ipc;
using L4Rt.Perf.Shared;
using L4Rt.Shared;

namespace L4Rt.Perf.Micro;

/// <summary>
/// Feske's question, "what does dynamic RPC marshalling cost?", for one operation (int, long, double, a 3-word struct in;
/// the struct out), marshalled three ways (<see cref="MarshallingStyles"/>, shared with the harness's two-process rows):
/// hand-written MR stores and loads, the generated contract code (<see cref="MarshallingBenchClient"/> /
/// <see cref="MarshallingBenchDispatcher"/>), and dynamic <see cref="MrWriter"/> / <see cref="MrReader"/> with a type tag
/// per value. <c>Marshal_*</c>: request written, read by the "server", reply written and read, all in one UTCB (no IPC:
/// the marshalling alone). <c>Call_*</c>: the same as a real call over a direct link to a server thread of this process
/// (the RTT the marshalling is part of). Expect 0 B for every one.
/// </summary>
[MemoryDiagnoser]
public class MarshallingBenchmarks
{
    private readonly MarshallingBench _impl = new();
    private readonly L4Thread _local = new();
    private readonly Vector3L _p = new(1, 2, 3);
    private LocalServer _server = null!;
    private L4Thread _client = null!;
    private SendLink _link = null!;
    private MarshallingBenchClient _generated = null!;
    private volatile MarshallingStyle _style;

    [GlobalSetup]
    public void Setup()
    {
        _server = new LocalServer((server, msg) => MarshallingStyles.Serve(_style, _impl, server, msg));
        (_client, _link) = (_server.Client, _server.Link);
        _generated = new MarshallingBenchClient(_client, _link, L4Timeout.Never);
    }

    [Benchmark(Baseline = true)]
    public long Marshal_HandWritten() => Local(MarshallingStyle.HandWritten);

    [Benchmark]
    public long Marshal_Generated() => Local(MarshallingStyle.Generated);

    [Benchmark]
    public long Marshal_Dynamic() => Local(MarshallingStyle.Dynamic);

    [Benchmark]
    public long Call_HandWritten()
    {
        _style = MarshallingStyle.HandWritten;
        Span<ulong> mr = _client.Utcb.Mr;
        _client.Call(_link, MarshallingStyles.HandRequest(mr, 1, 2, 3.0, _p), L4Timeout.Never);
        return MarshallingStyles.HandReply(mr).Z;
    }

    [Benchmark]
    public long Call_Generated()
    {
        _style = MarshallingStyle.Generated;
        return _generated.TryStep(1, 2, 3.0, _p, out Vector3L r) == L4Status.Ok ? r.Z : -1;
    }

    [Benchmark]
    public long Call_Dynamic()
    {
        _style = MarshallingStyle.Dynamic;
        Span<ulong> mr = _client.Utcb.Mr;
        IpcResult reply = _client.Call(_link, MarshallingStyles.DynamicRequest(mr, 1, 2, 3.0, _p), L4Timeout.Never);
        return MarshallingStyles.DynamicReply(mr, reply.Tag).Z;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _server.Dispose();
        _local.Dispose();
    }

    /// <summary>One request written, served and its reply read, in one UTCB: the marshalling without the IPC.</summary>
    private long Local(MarshallingStyle style)
    {
        Span<ulong> mr = _local.Utcb.Mr;
        MsgTag request = style switch
        {
            MarshallingStyle.HandWritten => MarshallingStyles.HandRequest(mr, 1, 2, 3.0, _p),
            MarshallingStyle.Generated => new MsgTag(MarshallingStyles.Protocol, GeneratedRequest(mr, 1, 2, 3.0, _p)),
            _ => MarshallingStyles.DynamicRequest(mr, 1, 2, 3.0, _p),
        };
        MsgTag reply = MarshallingStyles.Serve(style, _impl, _local, new IpcResult(L4Status.Ok, request));
        return style switch
        {
            MarshallingStyle.HandWritten => MarshallingStyles.HandReply(mr).Z,
            MarshallingStyle.Generated => ContractWords.Get<Vector3L>(mr, 0).Z + reply.Words,
            _ => MarshallingStyles.DynamicReply(mr, reply).Z,
        };
    }

    /// <summary>What the generated client's request writer does (it is private to the client).</summary>
    private static int GeneratedRequest(Span<ulong> mr, int a, long b, double c, Vector3L p)
    {
        int at = 0;
        ContractWords.Put(mr, at, a);
        at += ContractWords.WordsOf<int>();
        ContractWords.Put(mr, at, b);
        at += ContractWords.WordsOf<long>();
        ContractWords.Put(mr, at, c);
        at += ContractWords.WordsOf<double>();
        ContractWords.Put(mr, at, p);
        return at + ContractWords.WordsOf<Vector3L>();
    }
}
