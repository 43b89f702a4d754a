namespace L4Rt.Perf;

/// <summary>Order statistics over a sample (sorted once).</summary>
internal sealed class Stats
{
    private readonly double[] _sorted;

    internal Stats(IEnumerable<double> samples)
    {
        _sorted = samples.ToArray();
        Array.Sort(_sorted);
        if (_sorted.Length == 0)
        {
            throw new ArgumentException("no samples", nameof(samples));
        }
    }

    internal int Count => _sorted.Length;

    internal double Median => Percentile(50);

    internal double P99 => Percentile(99);

    internal double P999 => Percentile(99.9);

    internal double Min => _sorted[0];

    internal double Max => _sorted[^1];

    internal double Percentile(double p)
    {
        double rank = p / 100 * (_sorted.Length - 1);
        int low = (int)Math.Floor(rank);
        int high = Math.Min(low + 1, _sorted.Length - 1);
        return _sorted[low] + ((_sorted[high] - _sorted[low]) * (rank - low));
    }
}
