using L4Rt.Ipc;
using L4Rt.Contracts;

namespace L4Rt.Perf.Shared;

// Linked as source into the micro-benchmarks (in-process) and the harness (two processes), so both marshal exactly
// the same operation the same three ways. Each assembly gets its own generated client and dispatcher.

/// <summary>Three words of a struct, for the marshalling benchmarks.</summary>
internal readonly record struct Vector3L(long X, long Y, long Z);

/// <summary>The operation the marshalling benchmarks compare: four arguments (6 words) in, a struct (3 words) out.</summary>
[L4RtContract(Id = 200, Version = 1)]
internal interface IMarshallingBench
{
    /// <summary>p moved by (a, b, c).</summary>
    [L4RtOperation(1)]
    Vector3L Step(int a, long b, double c, Vector3L p);
}

/// <summary>The server's implementation.</summary>
internal sealed class MarshallingBench : IMarshallingBench
{
    /// <inheritdoc/>
    public Vector3L Step(int a, long b, double c, Vector3L p) => new(p.X + a, p.Y + b, p.Z + (long)c);
}

/// <summary>The three ways of marshalling <see cref="IMarshallingBench.Step"/> that Feske's question compares.</summary>
internal enum MarshallingStyle
{
    /// <summary>Hand-written stores and loads of message registers, no checks: the floor.</summary>
    HandWritten = 1,

    /// <summary>The generated client and dispatcher (protocol, word count and length checked).</summary>
    Generated = 2,

    /// <summary><see cref="MrWriter"/>/<see cref="MrReader"/>: a type tag word before each value, checked on reading.</summary>
    Dynamic = 3,
}

/// <summary>Both ends of each style, over any UTCB: the request and reply writers, and the server's answer.</summary>
internal static class MarshallingStyles
{
    /// <summary>The protocol word of <see cref="IMarshallingBench.Step"/> (contract 200, version 1, opcode 1).</summary>
    internal const int Protocol = MarshallingBenchClient.ProtocolStep;

    /// <summary>The server side of one call in <paramref name="style"/>: reads the request, calls the implementation, writes the reply.</summary>
    internal static MsgTag Serve(MarshallingStyle style, IMarshallingBench impl, L4Thread server, in IpcResult msg)
    {
        Span<ulong> mr = server.Utcb.Mr;
        switch (style)
        {
            case MarshallingStyle.HandWritten:
                Vector3L r = impl.Step((int)mr[0], (long)mr[1], BitConverter.UInt64BitsToDouble(mr[2]), new Vector3L((long)mr[3], (long)mr[4], (long)mr[5]));
                mr[0] = (ulong)r.X;
                mr[1] = (ulong)r.Y;
                mr[2] = (ulong)r.Z;
                return new MsgTag(Protocol, 3);
            case MarshallingStyle.Generated:
                return MarshallingBenchDispatcher.Dispatch(impl, server, in msg);
            default:
                MrReader reader = new(mr[..msg.Tag.Words]);
                Vector3L result = impl.Step(reader.Read<int>(), reader.Read<long>(), reader.Read<double>(), reader.Read<Vector3L>());
                MrWriter writer = new(mr);
                writer.Write(result);
                return writer.ToTag(Protocol);
        }
    }

    /// <summary>The hand-written request: 6 words, no type information.</summary>
    internal static MsgTag HandRequest(Span<ulong> mr, int a, long b, double c, Vector3L p)
    {
        mr[0] = (ulong)(uint)a;
        mr[1] = (ulong)b;
        mr[2] = BitConverter.DoubleToUInt64Bits(c);
        mr[3] = (ulong)p.X;
        mr[4] = (ulong)p.Y;
        mr[5] = (ulong)p.Z;
        return new MsgTag(Protocol, 6);
    }

    /// <summary>The hand-written reply read back.</summary>
    internal static Vector3L HandReply(ReadOnlySpan<ulong> mr) => new((long)mr[0], (long)mr[1], (long)mr[2]);

    /// <summary>The dynamic request: a type tag before each of the four values (10 words).</summary>
    internal static MsgTag DynamicRequest(Span<ulong> mr, int a, long b, double c, Vector3L p)
    {
        MrWriter w = new(mr);
        w.Write(a).Write(b).Write(c).Write(p);
        return w.ToTag(Protocol);
    }

    /// <summary>The dynamic reply read back (its type tag checked).</summary>
    internal static Vector3L DynamicReply(ReadOnlySpan<ulong> mr, MsgTag reply)
    {
        MrReader r = new(mr[..reply.Words]);
        return r.Read<Vector3L>();
    }
}
