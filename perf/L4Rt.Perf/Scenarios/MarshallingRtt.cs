using System.Diagnostics;
using System.Globalization;
using L4Rt.Ipc;
using L4Rt.Perf.Shared;

namespace L4Rt.Perf.Scenarios;

/// <summary>
/// Feske's question between two processes: the RTT of one <see cref="IMarshallingBench.Step"/> call (four arguments
/// in, a struct out) marshalled hand-written, by the generated contract code and dynamically (<see cref="MarshallingStyles"/>),
/// each call timed on its own as <see cref="CallRtt"/> does, the server a fresh worker process unmarshalling the same way.
/// </summary>
internal static class MarshallingRtt
{
    /// <summary>One round in <paramref name="style"/>: a fresh worker, warm-up, <paramref name="iterations"/> timed calls. Returns the RTTs in ns.</summary>
    internal static double[] Round(MarshallingStyle style, int warmup, int iterations)
    {
        using Session s = new(style);
        Warmup warm = new(warmup);
        for (int i = 0; warm.Continues(i); i++)
        {
            s.Call();
        }

        double[] rtt = new double[iterations];
        double tickNs = 1e9 / Stopwatch.Frequency;
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            s.Call();
            rtt[i] = (Stopwatch.GetTimestamp() - start) * tickNs;
        }

        return rtt;
    }

    /// <summary>Bytes the calling thread allocates over <paramref name="calls"/> warm calls in <paramref name="style"/> (expected: 0).</summary>
    internal static long AllocatedPerCalls(MarshallingStyle style, int calls)
    {
        using Session s = new(style);
        for (int i = 0; i < 5000; i++)
        {
            s.Call();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            s.Call();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>A worker serving one style and the client end of its link; <see cref="Call"/> makes one checked call.</summary>
    private sealed class Session : IDisposable
    {
        private readonly MarshallingStyle _style;
        private readonly WorkerProcess _worker;
        private readonly SendLink _link;
        private readonly L4Thread _me = new();
        private readonly MarshallingBenchClient _client;
        private readonly Vector3L _p = new(1, 2, 3);
        private long _expected = 3;

        internal Session(MarshallingStyle style)
        {
            _style = style;
            string path = Path.Combine(Path.GetTempPath(), $"l4rt-perf-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
            _worker = WorkerProcess.Start("marshal-echo", path, style.ToString());
            _link = DirectLink.Connect(path, TimeSpan.FromSeconds(30));
            _client = new MarshallingBenchClient(_me, _link, L4Timeout.Never);
        }

        /// <summary>One call of Step(1, 2, 3.0, p) with p the last result; the result is checked, so a broken style cannot look fast.</summary>
        internal void Call()
        {
            Vector3L p = new(_p.X, _p.Y, _expected);
            Vector3L r;
            Span<ulong> mr = _me.Utcb.Mr;
            switch (_style)
            {
                case MarshallingStyle.HandWritten:
                    Check(_me.Call(_link, MarshallingStyles.HandRequest(mr, 1, 2, 3.0, p), L4Timeout.Never).Status);
                    r = MarshallingStyles.HandReply(mr);
                    break;
                case MarshallingStyle.Generated:
                    Check(_client.TryStep(1, 2, 3.0, p, out r));
                    break;
                default:
                    IpcResult reply = _me.Call(_link, MarshallingStyles.DynamicRequest(mr, 1, 2, 3.0, p), L4Timeout.Never);
                    Check(reply.Status);
                    r = MarshallingStyles.DynamicReply(mr, reply.Tag);
                    break;
            }

            if (r.Z != _expected + 3 || r.X != _p.X + 1)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{_style}: wrong result {r}"));
            }

            _expected = r.Z;
        }

        public void Dispose()
        {
            _link.Dispose();
            _me.Dispose();
            _worker.Dispose();
        }

        private void Check(L4Status status)
        {
            if (status != L4Status.Ok)
            {
                throw new InvalidOperationException($"{_style} call failed: {status}");
            }
        }
    }
}
