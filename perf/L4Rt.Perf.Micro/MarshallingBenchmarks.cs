using BenchmarkDotNet.Attributes;
using L4Rt.Contracts;
using L4Rt.Ipc;
using L4Rt.Shared;

namespace L4Rt.Perf.Micro;

/// <summary>
/// Feske's question, "what does dynamic RPC marshalling cost?", for one operation (int, long, double, a 3-word struct in;
/// the struct out), marshalled three ways: hand-written MR stores and loads, the generated contract code
/// (<see cref="MarshallingBenchClient"/> / <see cref="MarshallingBenchDispatcher"/>), and dynamic <see cref="MrWriter"/> /
/// <see cref="MrReader"/> with a type tag per value. <c>Marshal_*</c>: request written, read by the "server", reply
/// written and read, all in one UTCB (no IPC: the marshalling alone). <c>Call_*</c>: the same as a real call over a
/// direct link to a server thread of this process (the RTT the marshalling is part of). Expect 0 B for every one.
/// </summary>
[MemoryDiagnoser]
public class MarshallingBenchmarks
{
    private const int Protocol = (200 << 16) | (1 << 8) | 1;
    private readonly MarshallingBench _impl = new();
    private readonly L4Thread _local = new();
    private readonly Vector3L _p = new(1, 2, 3);
    private LocalServer _server = null!;
    private L4Thread _client = null!;
    private SendLink _link = null!;
    private MarshallingBenchClient _generated = null!;
    private volatile int _mode;

    [GlobalSetup]
    public void Setup()
    {
        _server = new LocalServer(Answer);
        (_client, _link) = (_server.Client, _server.Link);
        _generated = new MarshallingBenchClient(_client, _link, L4Timeout.Never);
    }

    [Benchmark(Baseline = true)]
    public long Marshal_HandWritten()
    {
        Span<ulong> mr = _local.Utcb.Mr;
        HandRequest(mr, 1, 2, 3.0, _p);
        HandServe(mr);
        return HandReply(mr).Z;
    }

    [Benchmark]
    public long Marshal_Generated()
    {
        Span<ulong> mr = _local.Utcb.Mr;
        int words = GeneratedRequest(mr, 1, 2, 3.0, _p);
        MsgTag reply = MarshallingBenchDispatcher.Dispatch(_impl, _local, new IpcResult(L4Status.Ok, new MsgTag(Protocol, words)));
        return ContractWords.Get<Vector3L>(mr, 0).Z + reply.Words;
    }

    [Benchmark]
    public long Marshal_Dynamic()
    {
        Span<ulong> mr = _local.Utcb.Mr;
        MrWriter w = new(mr);
        w.Write(1).Write(2L).Write(3.0).Write(_p);
        DynamicServe(mr, w.Words);
        MrReader r = new(mr[..4]);
        return r.Read<Vector3L>().Z;
    }

    [Benchmark]
    public long Call_HandWritten()
    {
        _mode = 0;
        Span<ulong> mr = _client.Utcb.Mr;
        HandRequest(mr, 1, 2, 3.0, _p);
        _client.Call(_link, new MsgTag(Protocol, 6), L4Timeout.Never);
        return HandReply(mr).Z;
    }

    [Benchmark]
    public long Call_Generated()
    {
        _mode = 1;
        return _generated.TryStep(1, 2, 3.0, _p, out Vector3L r) == L4Status.Ok ? r.Z : -1;
    }

    [Benchmark]
    public long Call_Dynamic()
    {
        _mode = 2;
        Span<ulong> mr = _client.Utcb.Mr;
        MrWriter w = new(mr);
        w.Write(1).Write(2L).Write(3.0).Write(_p);
        IpcResult reply = _client.Call(_link, w.ToTag(Protocol), L4Timeout.Never);
        MrReader r = new(mr[..reply.Tag.Words]);
        return r.Read<Vector3L>().Z;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _server.Dispose();
        _local.Dispose();
    }

    private MsgTag Answer(L4Thread server, IpcResult msg)
    {
        Span<ulong> mr = server.Utcb.Mr;
        switch (_mode)
        {
            case 0:
                HandServe(mr);
                return new MsgTag(Protocol, 3);
            case 1:
                return MarshallingBenchDispatcher.Dispatch(_impl, server, in msg);
            default:
                return new MsgTag(Protocol, DynamicServe(mr, msg.Tag.Words));
        }
    }

    private static void HandRequest(Span<ulong> mr, int a, long b, double c, Vector3L p)
    {
        mr[0] = (ulong)(uint)a;
        mr[1] = (ulong)b;
        mr[2] = BitConverter.DoubleToUInt64Bits(c);
        mr[3] = (ulong)p.X;
        mr[4] = (ulong)p.Y;
        mr[5] = (ulong)p.Z;
    }

    private void HandServe(Span<ulong> mr)
    {
        Vector3L r = _impl.Step((int)mr[0], (long)mr[1], BitConverter.UInt64BitsToDouble(mr[2]), new Vector3L((long)mr[3], (long)mr[4], (long)mr[5]));
        mr[0] = (ulong)r.X;
        mr[1] = (ulong)r.Y;
        mr[2] = (ulong)r.Z;
    }

    private static Vector3L HandReply(Span<ulong> mr) => new((long)mr[0], (long)mr[1], (long)mr[2]);

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

    private int DynamicServe(Span<ulong> mr, int words)
    {
        MrReader r = new(mr[..words]);
        Vector3L result = _impl.Step(r.Read<int>(), r.Read<long>(), r.Read<double>(), r.Read<Vector3L>());
        MrWriter w = new(mr);
        w.Write(result);
        return w.Words;
    }
}
