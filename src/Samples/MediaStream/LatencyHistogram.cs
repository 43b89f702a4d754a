using System.Numerics;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// Latencies in nanoseconds, counted in log-linear buckets (32 per power of two: within 3 %), allocated once, so
/// recording a frame's latency costs an increment and no allocation, however long the stream runs.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 5;
    private const int Sub = 1 << SubBits;
    private readonly long[] _counts = new long[64 * Sub];

    /// <summary>Latencies recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The largest latency recorded.</summary>
    public long Max { get; private set; }

    /// <summary>Counts one latency (negative values count as 0).</summary>
    public void Record(long nanoseconds)
    {
        long v = Math.Max(0, nanoseconds);
        _counts[Bucket(v)]++;
        Count++;
        Max = Math.Max(Max, v);
    }

    /// <summary>The latency at quantile <paramref name="q"/> (0..1): the middle of its bucket, at most <see cref="Max"/> (the last one: <see cref="Max"/>); 0 when empty.</summary>
    public long Percentile(double q)
    {
        long count = Count;
        if (count == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(q * count));
        if (rank >= count)
        {
            return Max; // the top of the distribution is known exactly
        }

        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(Max, Middle(i));
            }
        }

        return Max;
    }

    private static int Bucket(long v)
    {
        if (v < Sub)
        {
            return (int)v;
        }

        int shift = 63 - BitOperations.LeadingZeroCount((ulong)v) - SubBits; // v >> shift is in [Sub, 2·Sub)
        return ((shift + 1) * Sub) + (int)((v >> shift) - Sub);
    }

    private static long Middle(int bucket)
    {
        if (bucket < Sub)
        {
            return bucket;
        }

        int shift = (bucket / Sub) - 1;
        long low = (long)(Sub + (bucket % Sub)) << shift;
        return low + ((1L << shift) / 2);
    }
}
