using System.Diagnostics.Metrics;
using L4Rt.Broker;
using L4Rt.Broker.Kernel;
using L4Rt.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace L4Rt.Tests.Broker;

/// <summary>The broker's meter publishes the instruments dotnet-counters shows (pure unit: no sockets).</summary>
public class BrokerMetricsTests
{
    [Fact]
    public void Meter_PublishesTasksObjectsQuotaAndControlCalls()
    {
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory factory = services.GetRequiredService<IMeterFactory>();
        using BrokerMetrics metrics = new(factory);
        IOptions<BrokerOptions> options = Options.Create(new BrokerOptions());
        using BrokerKernel kernel = new(options, NullLogger<BrokerKernel>.Instance, metrics, new FdBudget(options, NullLogger<FdBudget>.Instance));
        Dictionary<string, object> seen = [];
        using MeterListener listener = new();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This kernel's meter only: kernels of tests running in parallel publish under the same name.
            if (instrument.Meter.Name == BrokerMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((i, v, _, _) => seen[i.Name] = v);
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => seen[i.Name] = v);
        listener.Start();
        metrics.ControlCall(Opcode.Hello);
        listener.RecordObservableInstruments();
        Assert.Equal(1L, seen["l4rt.broker.control_calls"]);
        Assert.Equal(0, seen["l4rt.broker.tasks"]);
        Assert.Equal(0, seen["l4rt.broker.objects"]);
        Assert.Equal(0L, seen["l4rt.broker.quota_used_bytes"]);
    }
}
