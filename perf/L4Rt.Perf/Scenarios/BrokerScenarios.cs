using System.Diagnostics;
using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.Perf.Scenarios;

/// <summary>Scenarios that go through the broker: link setup and control-plane round trips.</summary>
internal static class BrokerScenarios
{
    /// <summary>
    /// Link setup: the first call of a fresh thread through a gate (broker: create the link region, the receiving
    /// task installs it and acks, the sender maps it; then one call). Returns microseconds per setup.
    /// </summary>
    internal static async Task<(double[] FirstCall, double[] SetupOnly, double[] CallAfter)> LinkSetupUs(BrokerHost broker, int count)
    {
        using WorkerProcess server = WorkerProcess.Start("gate-echo", broker.SocketPath, "bench/echo");
        await using L4Task task = await broker.ConnectAsync("bench-client");
        Gate gate = await task.Names.QueryAsync<Gate>("bench/echo", TimeSpan.FromSeconds(10));
        double[] first = new double[count], setup = new double[count], after = new double[count];
        for (int i = -50; i < count; i++) // 50 warm-up setups
        {
            // Alternate: even rounds time the whole first call, odd rounds time setup and the first call apart.
            using L4Thread me = new();
            long start = Stopwatch.GetTimestamp();
            L4Status prepared = (i & 1) == 1 ? gate.Prepare(me) : L4Status.Ok;
            long mid = Stopwatch.GetTimestamp();
            IpcResult r = me.Call(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000));
            long end = Stopwatch.GetTimestamp();
            if (!r.IsOk || prepared != L4Status.Ok)
            {
                throw new InvalidOperationException($"call through a new link failed: {r.Status} {prepared}");
            }

            if (i >= 0)
            {
                first[i] = (end - start) * 1e6 / Stopwatch.Frequency;
                setup[i] = (mid - start) * 1e6 / Stopwatch.Frequency;
                after[i] = (end - mid) * 1e6 / Stopwatch.Frequency;
            }
        }

        double[] Pick(double[] a, int parity) => a.Where((_, k) => (k & 1) == parity).ToArray();
        return (Pick(first, 0), Pick(setup, 1), Pick(after, 1));
    }

    /// <summary>A cheap control-plane request/response (factory usage) from the SDK to the broker and back, in microseconds.</summary>
    internal static async Task<double[]> ControlRttUs(BrokerHost broker, int count)
    {
        await using L4Task task = await broker.ConnectAsync("bench-control");
        double[] us = new double[count];
        for (int i = -200; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await task.Factory.GetUsageAsync();
            long end = Stopwatch.GetTimestamp();
            if (i >= 0)
            {
                us[i] = (end - start) * 1e6 / Stopwatch.Frequency;
            }
        }

        return us;
    }

    /// <summary>
    /// A call carrying one typed item (the slow path through the broker: offer, accept, then the words on the link), to a
    /// server in another process that replies with the words: a gate capability mapped (<paramref name="memory"/> false)
    /// or a 4 KiB flexpage of a dataspace, mapped into the server's window and unmapped after its reply. Microseconds per call.
    /// </summary>
    internal static async Task<double[]> ItemCallUs(BrokerHost broker, int count, bool memory)
    {
        using WorkerProcess server = WorkerProcess.Start("gate-items", broker.SocketPath, memory ? "bench/items-mem" : "bench/items-cap");
        await using L4Task task = await broker.ConnectAsync("bench-items-client");
        Gate gate = await task.Names.QueryAsync<Gate>(memory ? "bench/items-mem" : "bench/items-cap", TimeSpan.FromSeconds(10));
        using L4Thread self = await task.CreateThreadAsync();
        Gate sent = await task.Factory.CreateGateAsync(self, 2);
        Dataspace dataspace = await task.Factory.CreateDataspaceAsync(4096);
        MsgItem item = memory ? MsgItem.Flexpage(dataspace, 0, 4096, L4Rt.Protocol.CapRights.Read) : MsgItem.Map(sent, L4Rt.Protocol.CapRights.Send);
        using L4Thread me = new();
        double[] us = new double[count];
        for (int i = -100; i < count; i++)
        {
            me.Utcb.Mr[0] = (ulong)i;
            item.WriteTo(me.Utcb.Mr[1..]);
            long start = Stopwatch.GetTimestamp();
            IpcResult r = me.Call(gate, new MsgTag(1, words: 1, items: 1), L4Timeout.FromMilliseconds(10_000));
            long end = Stopwatch.GetTimestamp();
            if (!r.IsOk)
            {
                throw new InvalidOperationException($"call with an item failed: {r.Status}");
            }

            if (i >= 0)
            {
                us[i] = (end - start) * 1e6 / Stopwatch.Frequency;
            }
        }

        return us;
    }

    /// <summary>
    /// Page faults as IPC, against a pager in another process: <c>Fault</c> is the first touch of a page of a paged
    /// dataspace (userfaultfd → this process's fault thread → PageFault call → the pager places the page with
    /// UFFDIO_COPY → wake), <c>Call</c> the same PageFault call made directly for another fresh page (no fault: the IPC
    /// and the placing alone). Alternating, one fresh page each; microseconds.
    /// </summary>
    internal static async Task<(double[] Fault, double[] Call)> PageFaultUs(BrokerHost broker, int count)
    {
        const int warmUp = 200;
        long pages = 2L * (count + warmUp);
        using WorkerProcess server = WorkerProcess.Start("pager", broker.SocketPath, "bench/paged", (pages * PageFault.PageSize).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using L4Task task = await broker.ConnectAsync("bench-page-faults");
        Dataspace dataspace = await task.Names.QueryAsync<Dataspace>("bench/paged", TimeSpan.FromSeconds(10));
        Gate pager = await task.Names.QueryAsync<Gate>("bench/paged-gate", TimeSpan.FromSeconds(10));
        using DataspaceMapping mapping = await dataspace.MapAsync(L4Rt.Protocol.CapRights.Read);
        using L4Thread me = new();
        double[] fault = new double[count], call = new double[count];
        MeasureFaults(mapping, me, pager, warmUp, fault, call);
        return (fault, call);
    }

    private static void MeasureFaults(DataspaceMapping mapping, L4Thread me, Gate pager, int warmUp, double[] fault, double[] call)
    {
        ReadOnlySpan<byte> all = mapping.ReadOnlySpan;
        for (int i = -warmUp; i < fault.Length; i++)
        {
            int page = 2 * (i + warmUp);
            long t0 = Stopwatch.GetTimestamp();
            byte seen = all[page * PageFault.PageSize]; // faults: served by the pager process
            long t1 = Stopwatch.GetTimestamp();
            me.Utcb.Mr[0] = 1;
            me.Utcb.Mr[1] = (ulong)((page + 1) * PageFault.PageSize);
            me.Utcb.Mr[2] = 0;
            IpcResult r = me.Call(pager, new MsgTag(SystemProtocol.PageFault, PageFault.Words), L4Timeout.FromMilliseconds(10_000));
            long t2 = Stopwatch.GetTimestamp();
            if (!r.IsOk || mapping.Status != L4Status.Ok || seen != 0)
            {
                throw new InvalidOperationException($"page fault {page} failed: call {r.Status}, mapping {mapping.Status}");
            }

            if (i >= 0)
            {
                fault[i] = (t1 - t0) * 1e6 / Stopwatch.Frequency;
                call[i] = (t2 - t1) * 1e6 / Stopwatch.Frequency;
            }
        }
    }
}
