using System.Runtime.InteropServices;
using SharpFuzz.Common;

namespace L4Rt.Fuzz.Engine;

/// <summary>
/// The AFL-style edge map the instrumented assemblies write: SharpFuzz rewrites every branch into
/// <c>Trace.SharedMem[id ^ Trace.PrevLocation]++; Trace.PrevLocation = id &gt;&gt; 1;</c>. Under afl-fuzz that pointer
/// is the fork server's shared memory; here it is this process's own 64 KiB buffer, cleared before each execution.
/// The buffer lives as long as the process (instrumented code has no null check, and a thread left behind by a hung
/// execution may still write to it); each target keeps its own record of what was seen.
/// Hit counts are classified into AFL's buckets (1, 2, 3, 4–7, 8–15, 16–31, 32–127, 128+), and an execution is
/// interesting when it sets a bucket bit no earlier execution of the same target set (<see cref="MergeNew"/>).
/// </summary>
internal sealed unsafe class CoverageMap
{
    internal const int Size = 1 << 16;

    private static readonly byte[] s_buckets = MakeBuckets();

    private static readonly byte* s_trace = Install();

    private readonly byte* _trace = s_trace;
    private readonly byte[] _seen = new byte[Size];

    /// <summary>Edges (map entries) any execution of this target reached.</summary>
    internal int Edges { get; private set; }

    /// <summary>Clears the trace before an execution.</summary>
    internal void Reset()
    {
        NativeMemory.Clear(_trace, Size);
        Trace.PrevLocation = 0;
    }

    /// <summary>Buckets the execution's hit counts and adds them to what was seen; true if any bucket bit is new.</summary>
    internal bool MergeNew()
    {
        bool found = false;
        ReadOnlySpan<ulong> words = new(_trace, Size / sizeof(ulong));
        for (int w = 0; w < words.Length; w++)
        {
            if (words[w] == 0)
            {
                continue; // most of the map is untouched: skip it eight entries at a time
            }

            for (int i = w * 8; i < (w * 8) + 8; i++)
            {
                byte bucket = s_buckets[_trace[i]];
                if ((bucket & ~_seen[i]) != 0)
                {
                    if (_seen[i] == 0)
                    {
                        Edges++;
                    }

                    _seen[i] |= bucket;
                    found = true;
                }
            }
        }

        return found;
    }

    private static byte[] MakeBuckets()
    {
        byte[] b = new byte[256];
        for (int n = 1; n < 256; n++)
        {
            b[n] = n switch
            {
                1 => 1,
                2 => 2,
                3 => 4,
                <= 7 => 8,
                <= 15 => 16,
                <= 31 => 32,
                <= 127 => 64,
                _ => 128,
            };
        }

        return b;
    }

    /// <summary>Points the instrumentation at this process's buffer; called once, before any instrumented code runs.</summary>
    internal static void EnsureInstalled() => _ = s_trace;

    private static byte* Install()
    {
        byte* trace = (byte*)NativeMemory.AlignedAlloc(Size, 64);
        NativeMemory.Clear(trace, Size);
        Trace.SharedMem = trace;
        Trace.PrevLocation = 0;
        return trace;
    }
}
