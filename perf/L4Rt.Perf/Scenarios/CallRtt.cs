using System.Diagnostics;
using L4Rt.Ipc;

namespace L4Rt.Perf.Scenarios;

/// <summary>
/// Round-trip time of <c>Call</c> (+ the server's <c>ReplyAndWait</c>) between two processes over one link,
/// each call timed individually with the monotonic clock, as the C ping-pong does.
/// </summary>
internal static class CallRtt
{
    /// <summary>Runs one round: a fresh worker, warm-up, then <paramref name="iterations"/> timed calls. Returns the RTTs in ns.</summary>
    internal static double[] Round(int words, long spinNs, int warmup, int iterations, int idleLinks = 0)
    {
        string path = Path.Combine(Path.GetTempPath(), $"l4rt-perf-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using WorkerProcess worker = WorkerProcess.Start("echo", path, spinNs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using SendLink link = DirectLink.Connect(path, TimeSpan.FromSeconds(30));

        // Idle links held by the same receiving thread (from another process): open wait must not slow down.
        using WorkerProcess? idle = idleLinks > 0 ? WorkerProcess.Start("idle-links", path, idleLinks.ToString(System.Globalization.CultureInfo.InvariantCulture)) : null;
        using L4Thread me = new() { SpinNanoseconds = spinNs };
        MsgTag tag = new(1, words);
        for (int i = 0; i < words; i++)
        {
            me.Utcb.Mr[i] = (ulong)i;
        }

        Warmup warm = new(warmup);
        for (int i = 0; warm.Continues(i); i++)
        {
            Check(me.Call(link, tag, L4Timeout.Never));
        }

        double[] rtt = new double[iterations];
        double tickNs = 1e9 / Stopwatch.Frequency;
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            IpcResult r = me.Call(link, tag, L4Timeout.Never);
            long end = Stopwatch.GetTimestamp();
            Check(r);
            rtt[i] = (end - start) * tickNs;
        }

        return rtt;
    }

    /// <summary>
    /// As <see cref="Round"/> with <c>CallAsync</c> awaited from an async method (the default spin, then the futex reactor:
    /// no thread held while the server works). Returns the RTTs in ns.
    /// </summary>
    internal static double[] RoundAsync(int words, int warmup, int iterations) => Task.Run(async () =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"l4rt-perf-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using WorkerProcess worker = WorkerProcess.Start("echo", path, L4Thread.DefaultSpinNanoseconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using SendLink link = DirectLink.Connect(path, TimeSpan.FromSeconds(30));
        using L4Thread me = new();
        MsgTag tag = new(1, words);
        Warmup warm = new(warmup);
        for (int i = 0; warm.Continues(i); i++)
        {
            Check(await me.CallAsync(link, tag, L4Timeout.Never).ConfigureAwait(false));
        }

        double[] rtt = new double[iterations];
        double tickNs = 1e9 / Stopwatch.Frequency;
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            IpcResult r = await me.CallAsync(link, tag, L4Timeout.Never).ConfigureAwait(false);
            long end = Stopwatch.GetTimestamp();
            Check(r);
            rtt[i] = (end - start) * tickNs;
        }

        return rtt;
    }).GetAwaiter().GetResult();

    /// <summary>Bytes allocated by the calling thread over <paramref name="calls"/> warm calls (expected: 0).</summary>
    internal static long AllocatedPerCalls(int calls)
    {
        string path = Path.Combine(Path.GetTempPath(), $"l4rt-perf-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using WorkerProcess worker = WorkerProcess.Start("echo", path, L4Thread.DefaultSpinNanoseconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using SendLink link = DirectLink.Connect(path, TimeSpan.FromSeconds(30));
        using L4Thread me = new();
        MsgTag tag = new(1, 8);
        for (int i = 0; i < 5000; i++)
        {
            Check(me.Call(link, tag, L4Timeout.Never));
        }

        // Warm the sleep path too: the first futex sleep of a thread allocates runtime state once.
        me.SpinNanoseconds = 0;
        for (int i = 0; i < 200; i++)
        {
            Check(me.Call(link, tag, L4Timeout.Never));
        }

        me.SpinNanoseconds = L4Thread.DefaultSpinNanoseconds;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            me.Call(link, tag, L4Timeout.Never);
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static void Check(IpcResult r)
    {
        if (!r.IsOk)
        {
            throw new InvalidOperationException($"call failed: {r.Status}");
        }
    }
}
