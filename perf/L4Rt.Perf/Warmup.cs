using System.Diagnostics;

namespace L4Rt.Perf;

/// <summary>
/// How long a round warms up before its timed loop: at least <c>count</c> operations and at least
/// <see cref="MinDuration"/>, so the harness and the round's fresh worker process both run the JIT's steady-state
/// code (PERF.md: warm up JIT tiering; tiered PGO as shipped). Tiering promotes a method after 30 calls and a
/// 100 ms quiet period, once to instrumented code and again to optimised code; a count alone (5,000 calls, about
/// 5 ms) timed workers still running tier-0 code.
/// </summary>
internal readonly struct Warmup(int count)
{
    /// <summary>The least warm-up time of a round.</summary>
    internal static readonly TimeSpan MinDuration = TimeSpan.FromMilliseconds(600);

    private readonly long _until = Stopwatch.GetTimestamp() + (long)(MinDuration.TotalSeconds * Stopwatch.Frequency);

    /// <summary>True while operation <paramref name="done"/> (0-based) is still part of the warm-up.</summary>
    internal bool Continues(int done) => done < count || Stopwatch.GetTimestamp() < _until;
}
