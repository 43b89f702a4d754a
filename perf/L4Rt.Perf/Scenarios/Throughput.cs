using System.Diagnostics;
using System.Globalization;
using L4Rt.Ipc;

namespace L4Rt.Perf.Scenarios;

/// <summary>One-way sends into one receiving thread in open wait, from 1 or more sender threads in other processes.</summary>
internal static class Throughput
{
    /// <summary>Messages per second received by one thread from <paramref name="senders"/> senders (spread over up to 4 processes).</summary>
    internal static double OpenWaitMsgsPerSecond(int senders, TimeSpan window)
    {
        string path = Path.Combine(Path.GetTempPath(), $"l4rt-perf-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using L4Thread receiver = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(path);
        int processes = Math.Min(senders, 4);
        List<WorkerProcess> workers = [];
        List<ReceiveLink> links = [];
        try
        {
            for (int p = 0; p < processes; p++)
            {
                int threads = (senders / processes) + (p < senders % processes ? 1 : 0);
                workers.Add(WorkerProcess.Start("sender", path, "1", threads.ToString(CultureInfo.InvariantCulture)));
                for (int t = 0; t < threads; t++)
                {
                    links.Add(listener.Accept(receiver, (ulong)links.Count, TimeSpan.FromSeconds(60)));
                }
            }

            // Warm-up, then count what arrives in the window.
            for (int i = 0; i < 20_000; i++)
            {
                receiver.Wait(L4Timeout.FromMilliseconds(5000));
            }

            long count = 0;
            long start = Stopwatch.GetTimestamp();
            long end = start + (long)(window.TotalSeconds * Stopwatch.Frequency);
            while (true)
            {
                for (int i = 0; i < 256; i++)
                {
                    if (receiver.Wait(L4Timeout.FromMilliseconds(5000)).IsOk)
                    {
                        count++;
                    }
                }

                long now = Stopwatch.GetTimestamp();
                if (now >= end)
                {
                    return count / ((now - start) / (double)Stopwatch.Frequency);
                }
            }
        }
        finally
        {
            foreach (WorkerProcess worker in workers)
            {
                worker.Dispose();
            }

            foreach (ReceiveLink link in links)
            {
                link.Dispose();
            }
        }
    }
}
