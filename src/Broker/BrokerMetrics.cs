using System.Diagnostics.Metrics;
using L4Rt.Broker.Kernel;
using L4Rt.Protocol;

namespace L4Rt.Broker;

/// <summary>
/// The broker's meter "L4Rt.Broker" (read it with <c>dotnet-counters monitor -n l4rtd --counters L4Rt.Broker</c>):
/// tasks, objects, control calls by opcode, links created, quota use.
/// </summary>
internal sealed class BrokerMetrics : IDisposable
{
    internal const string MeterName = "L4Rt.Broker";

    private readonly Meter _meter;
    private readonly Counter<long> _controlCalls;
    private readonly Counter<long> _links;

    public BrokerMetrics(IMeterFactory factory)
    {
        _meter = factory.Create(MeterName);
        _controlCalls = _meter.CreateCounter<long>("l4rt.broker.control_calls", "{call}", "Control-plane requests handled");
        _links = _meter.CreateCounter<long>("l4rt.broker.links_created", "{link}", "Sender-receiver links set up");
    }

    internal void ControlCall(Opcode opcode) => _controlCalls.Add(1, new KeyValuePair<string, object?>("opcode", opcode.ToString()));

    internal void LinkCreated() => _links.Add(1);

    internal void Observe(BrokerKernel kernel)
    {
        _meter.CreateObservableGauge("l4rt.broker.tasks", () => kernel.TaskCount, "{task}", "Connected tasks");
        _meter.CreateObservableGauge("l4rt.broker.objects", () => kernel.ObjectCount, "{object}", "Kernel objects (threads, gates, IRQs, factories)");
        _meter.CreateObservableGauge("l4rt.broker.quota_used_bytes", () => kernel.UsedBytes, "By", "Bytes charged to task factories");
    }

    public void Dispose() => _meter.Dispose();
}
