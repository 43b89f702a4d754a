namespace L4Rt.Tests.Support;

/// <summary>Zero-allocation proofs for hot APIs: what the calling thread allocates over many rounds of a loop.</summary>
public static class Allocations
{
    /// <summary>
    /// Bytes allocated by this thread over <paramref name="rounds"/> calls of <paramref name="round"/>, measured after
    /// <paramref name="warmup"/> calls (first calls allocate per-thread runtime state once). Count failures inside the
    /// round rather than asserting there: assertions allocate.
    /// </summary>
    public static long OverRounds(Action<int> round, int warmup = 2000, int rounds = 20_000)
    {
        for (int i = 0; i < warmup; i++)
        {
            round(i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < rounds; i++)
        {
            round(i);
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
