using System.Diagnostics.Metrics;
using L4Rt.Ipc;

namespace L4Rt.Channels;

/// <summary>
/// The meter "L4Rt.Channels": records and bytes moved, futex wake-ups issued, full/empty stalls (counters over live
/// and disposed endpoints, so they never drop back), and bytes in flight (committed and not yet released, read from
/// the rings' shared positions when observed). The hot path only bumps private fields.
/// </summary>
internal static class ChannelMetrics
{
    internal const string MeterName = "L4Rt.Channels";

    private const int Produced = 0, Read = 1, ProducedBytes = 2, Wakeups = 3, Stalls = 4, Relocations = 5;

    private static readonly MeteredSet<ChannelEndpoint> s_endpoints = new(6);
    private static readonly Meter s_meter = new(MeterName);

    static ChannelMetrics()
    {
        s_meter.CreateObservableCounter("l4rt.channel.records", () => s_endpoints.Total(Produced, e => e.Records, e => e.IsProducer), "{record}", "Records committed by producers in this process");
        s_meter.CreateObservableCounter("l4rt.channel.records_read", () => s_endpoints.Total(Read, e => e.Records, e => !e.IsProducer), "{record}", "Records read by consumers in this process");
        s_meter.CreateObservableCounter("l4rt.channel.bytes", () => s_endpoints.Total(ProducedBytes, e => e.Bytes, e => e.IsProducer), "By", "Payload bytes committed");
        s_meter.CreateObservableCounter("l4rt.channel.wakeups", () => s_endpoints.Total(Wakeups, e => e.WakeupsIssued), "{call}", "futex wake calls issued (only when the other side slept)");
        s_meter.CreateObservableCounter("l4rt.channel.stalls", () => s_endpoints.Total(Stalls, e => e.Stalls), "{stall}", "Waits on a full (producer) or empty (consumer) ring");
        s_meter.CreateObservableCounter("l4rt.channel.relocations", () => s_endpoints.Total(Relocations, e => e.Relocations), "{move}", "Times an end woken by a peer on its own CPU moved itself to another CPU");
        s_meter.CreateObservableGauge("l4rt.channel.bytes_in_flight", () => s_endpoints.Sum(e => e.SharedBytesInFlight(), e => e.IsProducer), "By", "Published bytes the consumer has not released yet");
    }

    internal static void Register(ChannelEndpoint endpoint) => s_endpoints.Register(endpoint);

    internal static void Unregister(ChannelEndpoint endpoint) => s_endpoints.Retire(endpoint, static (e, c) =>
    {
        c[e.IsProducer ? Produced : Read] = e.Records;
        c[ProducedBytes] = e.IsProducer ? e.Bytes : 0;
        c[Wakeups] = e.WakeupsIssued;
        c[Stalls] = e.Stalls;
        c[Relocations] = e.Relocations;
    });
}
