using System.Diagnostics.Metrics;

namespace L4Rt.Channels;

/// <summary>
/// The meter "L4Rt.Channels": records and bytes moved, futex wake-ups issued, full/empty stalls, bytes in
/// flight — observed from the live endpoints of this process (the hot path only bumps private fields).
/// </summary>
internal static class ChannelMetrics
{
    internal const string MeterName = "L4Rt.Channels";

    private static readonly Lock s_lock = new();
    private static readonly List<WeakReference<ChannelEndpoint>> s_endpoints = [];
    private static readonly Meter s_meter = new(MeterName);

    static ChannelMetrics()
    {
        s_meter.CreateObservableCounter("l4rt.channel.records", () => Sum(e => e.Records, producers: true), "{record}", "Records committed by producers in this process");
        s_meter.CreateObservableCounter("l4rt.channel.records_read", () => Sum(e => e.Records, producers: false), "{record}", "Records read by consumers in this process");
        s_meter.CreateObservableCounter("l4rt.channel.bytes", () => Sum(e => e.Bytes, producers: true), "By", "Payload bytes committed");
        s_meter.CreateObservableCounter("l4rt.channel.wakeups", () => Sum(e => e.WakeupsIssued, null), "{call}", "futex wake calls issued (only when the other side slept)");
        s_meter.CreateObservableCounter("l4rt.channel.stalls", () => Sum(e => e.Stalls, null), "{stall}", "Waits on a full (producer) or empty (consumer) ring");
        s_meter.CreateObservableGauge("l4rt.channel.bytes_in_flight", () => Sum(e => e is ChannelProducer p ? p.BytesInFlight : 0, producers: true), "By", "Committed bytes not yet released");
    }

    internal static void Register(ChannelEndpoint endpoint)
    {
        lock (s_lock)
        {
            s_endpoints.RemoveAll(w => !w.TryGetTarget(out _));
            s_endpoints.Add(new WeakReference<ChannelEndpoint>(endpoint));
        }
    }

    internal static void Unregister(ChannelEndpoint endpoint)
    {
        lock (s_lock)
        {
            s_endpoints.RemoveAll(w => !w.TryGetTarget(out ChannelEndpoint? e) || ReferenceEquals(e, endpoint));
        }
    }

    private static long Sum(Func<ChannelEndpoint, long> value, bool? producers)
    {
        long total = 0;
        lock (s_lock)
        {
            foreach (WeakReference<ChannelEndpoint> weak in s_endpoints)
            {
                if (weak.TryGetTarget(out ChannelEndpoint? e) && (producers is null || e.IsProducer == producers))
                {
                    total += value(e);
                }
            }
        }

        return total;
    }
}
