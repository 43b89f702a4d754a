using System.Diagnostics;
using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.Perf.Scenarios;

/// <summary>
/// IRQ trigger → delivery latency between processes: the harness triggers (direct, through shared memory), the
/// receiving process stamps the delivery in its open wait and reports the stamp back over a link.
/// </summary>
internal static class IrqLatency
{
    internal static async Task<double[]> RunUs(BrokerHost broker, int count)
    {
        string reportPath = Path.Combine(Path.GetTempPath(), $"l4rt-perf-irq-{Guid.NewGuid():N}.sock");
        using L4Thread me = new();
        using DirectLinkListener reports = DirectLinkListener.Listen(reportPath);
        using WorkerProcess receiver = WorkerProcess.Start("irq-receiver", broker.SocketPath, reportPath);
        using ReceiveLink report = reports.Accept(me, 1, TimeSpan.FromSeconds(60));
        await using L4Task task = await broker.ConnectAsync("bench-irq-source");
        Irq irq = await task.Names.QueryAsync<Irq>("bench/irq", TimeSpan.FromSeconds(10));
        double[] us = new double[count];
        for (int i = -200; i < count; i++)
        {
            long triggered = Stopwatch.GetTimestamp();
            if (irq.Trigger() != L4Status.Ok)
            {
                throw new InvalidOperationException("IRQ trigger failed");
            }

            IpcResult r = me.Receive(report, L4Timeout.FromMilliseconds(5000));
            if (!r.IsOk)
            {
                throw new InvalidOperationException($"no IRQ delivery report: {r.Status}");
            }

            if (i >= 0)
            {
                us[i] = ((long)me.Utcb.Mr[0] - triggered) * 1e6 / Stopwatch.Frequency;
            }
        }

        return us;
    }
}
