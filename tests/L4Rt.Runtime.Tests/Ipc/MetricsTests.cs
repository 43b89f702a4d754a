using System.Diagnostics.Metrics;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Tests.Channels;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Ipc;

/// <summary>The SDK's meters: counters that never drop back, a gauge that is current, and a meter for the IPC data plane.</summary>
[Collection(ProcessCollection.Name)]
public class MetricsTests
{
    [Fact]
    public void ChannelMeters_CountersSurviveDispose_BytesInFlightFollowsTheConsumer()
    {
        Dictionary<string, long> before = Observe("L4Rt.Channels");
        (ChannelProducer producer, ChannelConsumer consumer, TempDir dir, DirectChannelListener listener) = ChannelUnitTests.Pair(1 << 16);
        using (dir)
        using (listener)
        {
            using (producer)
            using (consumer)
            {
                for (int i = 0; i < 10; i++)
                {
                    Assert.Equal(L4Status.Ok, producer.Write(BitConverter.GetBytes((long)i), L4Timeout.Zero));
                }

                Assert.Equal(before["l4rt.channel.bytes_in_flight"] + (10 * 16), Observe("L4Rt.Channels")["l4rt.channel.bytes_in_flight"]); // header + 8 bytes each
                for (int i = 0; i < 10; i++)
                {
                    Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.Zero, out _));
                }

                consumer.Release();
                Dictionary<string, long> drained = Observe("L4Rt.Channels");
                Assert.Equal(before["l4rt.channel.bytes_in_flight"], drained["l4rt.channel.bytes_in_flight"]); // was stale: the producer's last view
                Assert.Equal(before["l4rt.channel.records"] + 10, drained["l4rt.channel.records"]);
                Assert.Equal(before["l4rt.channel.records_read"] + 10, drained["l4rt.channel.records_read"]);
            }

            Dictionary<string, long> after = Observe("L4Rt.Channels");
            Assert.Equal(before["l4rt.channel.records"] + 10, after["l4rt.channel.records"]); // used to drop back to the baseline
            Assert.Equal(before["l4rt.channel.records_read"] + 10, after["l4rt.channel.records_read"]);
            Assert.Equal(before["l4rt.channel.bytes"] + 80, after["l4rt.channel.bytes"]);
        }
    }

    [Fact]
    public void IpcMeter_CountsCallsTimeoutsAndReceives_AndKeepsThemAfterTheThreadIsGone()
    {
        Dictionary<string, long> before = Observe("L4Rt.Ipc");
        using (EchoServer server = new())
        using (L4Thread me = new())
        {
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(L4Status.Ok, me.Call(server.Link, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000)).Status);
            }

            Assert.Equal(L4Status.ReceiveTimeout, me.Wait(L4Timeout.FromMilliseconds(1)).Status); // nothing bound: a timeout
            Dictionary<string, long> during = Observe("L4Rt.Ipc");
            Assert.Equal(before["l4rt.ipc.calls"] + 5, during["l4rt.ipc.calls"]);
            Assert.Equal(before["l4rt.ipc.timeouts"] + 1, during["l4rt.ipc.timeouts"]);
            Assert.True(during["l4rt.ipc.threads"] >= 1);
        }

        Dictionary<string, long> after = Observe("L4Rt.Ipc");
        Assert.Equal(before["l4rt.ipc.calls"] + 5, after["l4rt.ipc.calls"]);
        Assert.Equal(before["l4rt.ipc.timeouts"] + 1, after["l4rt.ipc.timeouts"]);
    }

    /// <summary>One observation of every instrument of <paramref name="meter"/>.</summary>
    private static Dictionary<string, long> Observe(string meter)
    {
        // A meter exists from the first use of what it measures; the baseline may be taken before that.
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(IpcMetrics).TypeHandle);
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(ChannelMetrics).TypeHandle);
        Dictionary<string, long> seen = [];
        using MeterListener listener = new();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == meter)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => seen[i.Name] = v);
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }
}
