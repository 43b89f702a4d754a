using System.Diagnostics.Metrics;

namespace L4Rt.Ipc;

/// <summary>
/// The meter "L4Rt.Ipc": the data plane of this process's threads — sends, calls, messages received, timeouts,
/// futex sleeps and the futex wakes issued (only when the other side slept). Each thread counts in plain fields of
/// its own (<see cref="L4Thread.Counters"/>, one add each on the owner's path, no atomics); the meter sums live and
/// disposed threads when it is observed, so a counter never drops back.
/// </summary>
internal static class IpcMetrics
{
    internal const string MeterName = "L4Rt.Ipc";

    private const int Sends = 0, Calls = 1, Received = 2, Timeouts = 3, Sleeps = 4, Wakeups = 5;

    private static readonly MeteredSet<L4Thread> s_threads = new(6);
    private static readonly Meter s_meter = new(MeterName);

    static IpcMetrics()
    {
        s_meter.CreateObservableCounter("l4rt.ipc.sends", () => s_threads.Total(Sends, t => t.Counters.Sends), "{message}", "Sends the receiver took");
        s_meter.CreateObservableCounter("l4rt.ipc.calls", () => s_threads.Total(Calls, t => t.Counters.Calls), "{call}", "Calls that got their reply");
        s_meter.CreateObservableCounter("l4rt.ipc.received", () => s_threads.Total(Received, t => t.Counters.Received), "{message}", "Messages and IRQs received (open and closed waits)");
        s_meter.CreateObservableCounter("l4rt.ipc.timeouts", () => s_threads.Total(Timeouts, t => t.Counters.Timeouts), "{operation}", "Operations that ended in SendTimeout or ReceiveTimeout");
        s_meter.CreateObservableCounter("l4rt.ipc.sleeps", () => s_threads.Total(Sleeps, t => t.Counters.Sleeps), "{call}", "futex waits (after the bounded spin)");
        s_meter.CreateObservableCounter("l4rt.ipc.wakeups", () => s_threads.Total(Wakeups, t => t.Counters.Wakeups), "{call}", "futex wakes issued (only when the other side slept)");
        s_meter.CreateObservableGauge("l4rt.ipc.threads", () => s_threads.Sum(_ => 1), "{thread}", "Live L4 threads in this process");
    }

    internal static void Register(L4Thread thread) => s_threads.Register(thread);

    internal static void Retire(L4Thread thread) => s_threads.Retire(thread, static (t, c) =>
    {
        IpcCounters n = t.Counters;
        (c[Sends], c[Calls], c[Received], c[Timeouts], c[Sleeps], c[Wakeups]) = (n.Sends, n.Calls, n.Received, n.Timeouts, n.Sleeps, n.Wakeups);
    });
}

/// <summary>What one thread did (see <see cref="IpcMetrics"/>); written by its owner only.</summary>
internal struct IpcCounters
{
    internal long Sends;
    internal long Calls;
    internal long Received;
    internal long Timeouts;
    internal long Sleeps;
    internal long Wakeups;
}
