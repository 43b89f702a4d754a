using L4Rt.Contracts;

namespace L4Rt.Perf.Micro;

/// <summary>Three words of a struct, for the marshalling benchmarks.</summary>
public readonly record struct Vector3L(long X, long Y, long Z);

/// <summary>The operation the marshalling benchmarks compare: four arguments (6 words) in, a struct (3 words) out.</summary>
[L4RtContract(Id = 200, Version = 1)]
public interface IMarshallingBench
{
    /// <summary>p moved by (a, b, c).</summary>
    [L4RtOperation(1)]
    Vector3L Step(int a, long b, double c, Vector3L p);
}

/// <summary>The server's implementation.</summary>
public sealed class MarshallingBench : IMarshallingBench
{
    /// <inheritdoc/>
    public Vector3L Step(int a, long b, double c, Vector3L p) => new(p.X + a, p.Y + b, p.Z + (long)c);
}
