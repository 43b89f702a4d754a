using System.Diagnostics;

namespace L4Rt.Tests.Support;

/// <summary>CLOCK_MONOTONIC in nanoseconds (the same clock in every process, so timestamps compare across processes).</summary>
public static class Monotonic
{
    public static long ToNanoseconds(long stopwatchTimestamp) => stopwatchTimestamp * (1_000_000_000 / Stopwatch.Frequency);

    public static long NowNs => ToNanoseconds(Stopwatch.GetTimestamp());
}
