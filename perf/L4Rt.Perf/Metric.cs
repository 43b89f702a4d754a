namespace L4Rt.Perf;

/// <summary>One reported figure: median and p99 over the rounds (or over all samples), with its baseline ratio.</summary>
internal sealed record Metric(
    string Name,
    string Unit,
    double Median,
    double P99,
    double[] Rounds,
    string Description,
    string? Baseline = null,
    double? Ratio = null,
    double[]? RoundRatios = null,
    double? Goal = null,
    bool LowerIsBetter = true)
{
    /// <summary>Against the goal: the ratio when there is a baseline, else the median itself (an absolute goal such as 200 µs).</summary>
    internal bool? MeetsGoal => Goal is null ? null : (Ratio ?? Median) is var v && (LowerIsBetter ? v <= Goal : v >= Goal);
}
