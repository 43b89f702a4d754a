using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace L4Rt.Bridge;

/// <summary>
/// The bridge's meter <c>L4Rt.Bridge</c>: <c>l4rt.bridge.calls</c> and <c>l4rt.bridge.errors</c> (counters, tagged with
/// the bridged name, the role — <c>import</c> or <c>export</c> — and for errors the status) and <c>l4rt.bridge.rtt</c>
/// (histogram, µs, importing side: from forwarding a call to its outcome).
/// </summary>
internal static class BridgeMetrics
{
    internal const string MeterName = "L4Rt.Bridge";

    private static readonly Meter s_meter = new(MeterName);
    private static readonly Counter<long> s_calls = s_meter.CreateCounter<long>("l4rt.bridge.calls", "{message}", "Calls, sends and triggers bridged, per name and role");
    private static readonly Counter<long> s_errors = s_meter.CreateCounter<long>("l4rt.bridge.errors", "{message}", "Bridged messages that did not end Ok, per name, role and status");
    private static readonly Histogram<double> s_rtt = s_meter.CreateHistogram<double>("l4rt.bridge.rtt", "us", "Round trip of a bridged call at the importing side");

    internal static void Message(string name, string role) => s_calls.Add(1, new TagList { { "name", name }, { "role", role } });

    internal static void Error(string name, string role, L4Status status) =>
        s_errors.Add(1, new TagList { { "name", name }, { "role", role }, { "status", status.ToString() } });

    internal static void Rtt(string name, double microseconds) => s_rtt.Record(microseconds, new TagList { { "name", name } });
}
