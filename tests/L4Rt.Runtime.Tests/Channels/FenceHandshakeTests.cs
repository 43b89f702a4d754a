using System.Globalization;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Memory;
using L4Rt.Tests.Support;
using Xunit.Abstractions;

namespace L4Rt.Tests.Channels;

/// <summary>
/// The channel's wake-up handshake with the membarrier (AsymmetricFence) and without it (<c>L4RT_MEMBARRIER=0</c>), in
/// every mix of the two across processes: with no spin at all both sides sleep whenever the ring is empty or full,
/// so every record passes through the handshake; a lost wake-up would show as a read or write that times out.
/// </summary>
[Collection(ProcessCollection.Name)]
public class FenceHandshakeTests(ITestOutputHelper output)
{
    private const long Records = 1_000_000;

    [Fact]
    public void ThisKernel_OffersTheGlobalExpeditedBarrier()
    {
        // The fallback is tested below either way; this says which path the benchmarks measure here.
        output.WriteLine($"membarrier(GLOBAL_EXPEDITED) available: {AsymmetricFence.Available}");
        Assert.True(AsymmetricFence.Available || Environment.GetEnvironmentVariable("L4RT_MEMBARRIER") == "0", "this machine's kernel was expected to offer membarrier GLOBAL_EXPEDITED");
        Assert.True(AsymmetricFence.BeforeSleep());
    }

    [Fact]
    public async Task AsyncConsumer_LargeRecords_NoWaitSleepsThroughAPublish()
    {
        // The shape that lost wake-ups (a sleeper that read the wake word after raising its flag, with a waker that takes
        // the flag down itself): 64 KiB records into a 1 MiB ring, the consumer awaiting WaitForDataAsync whenever it is
        // empty, so it sleeps on nearly every record. With that order back, one run in four stalled here.
        const long Total = 3L << 30;
        using TempDir dir = new();
        using DirectChannelListener listener = DirectChannelListener.Listen(dir.Socket());
        using ChildProcess producerChild = ChildProcess.Start("chan-produce", dir.Socket(), Total.ToString(CultureInfo.InvariantCulture), "77", "65536");
        using ChannelConsumer consumer = listener.AcceptAsConsumer(1 << 20, TimeSpan.FromSeconds(30));
        long bytes = 0, sleeps = 0;
        while (true)
        {
            L4Status status = consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> record);
            if (status == L4Status.Ok)
            {
                bytes += record.Length;
                consumer.Release();
                continue;
            }

            if (status == L4Status.DestinationDeleted && consumer.IsCompleted)
            {
                break;
            }

            Assert.Equal(L4Status.ReceiveTimeout, status);
            sleeps++;
            // The producer streams at GB/s: 3 s without a record is a lost wake-up, this side's (a record is there) or
            // the producer's (it sleeps on a ring this side has freed).
            L4Status waited = await consumer.WaitForDataAsync(L4Timeout.FromMilliseconds(3000));
            if (waited != L4Status.Ok)
            {
                string whose = consumer.Read(L4Timeout.Zero, out _) == L4Status.Ok ? "one was there: this side's wake-up was lost" : "none: the producer's was";
                Assert.Fail($"a wait of 3 s ended with {waited} ({whose}) after {bytes} bytes, {sleeps} waits\nproducer: {producerChild.Output}");
            }
        }

        output.WriteLine($"{bytes} bytes, {sleeps} waits, {consumer.WakeupsIssued} wakes issued; consumer counted {consumer.Records} records {consumer.Bytes} bytes; producer: {producerChild.WaitForLine("DONE")}");
        Assert.Equal(Total, bytes);
        Assert.True(sleeps > 1000, $"only {sleeps} waits: the consumer hardly slept");
    }

    [Theory]
    [InlineData("1")]
    [InlineData("0")]
    public void SleepingOnEveryRecord_NoWakeUpIsLost_WithOrWithoutTheConsumersBarrier(string consumerMembarrier)
    {
        using TempDir dir = new();
        using DirectChannelListener listener = DirectChannelListener.Listen(dir.Socket());
        using ChildProcess consumerChild = ChildProcess.StartWith(
            new Dictionary<string, string> { ["L4RT_MEMBARRIER"] = consumerMembarrier },
            "chan-seq-consume", dir.Socket(), "0", Records.ToString(CultureInfo.InvariantCulture));
        using ChannelProducer producer = listener.AcceptAsProducer(4096, TimeSpan.FromSeconds(30)); // 4 KiB: the producer fills it often too
        producer.SpinNanoseconds = 0;

        string[] fences = consumerChild.WaitForLine("FENCES").Split(' ');
        bool consumerBarrier = consumerMembarrier == "1" && AsymmetricFence.Available;
        Assert.Equal(consumerBarrier.ToString(), fences[1]); // the child's own mode
        Assert.Equal(consumerBarrier ? 1 : 0, Volatile.Read(ref producer.Region.Layout.ConsumerFences)); // what it told us
        Assert.Equal(AsymmetricFence.Available ? "1" : "0", fences[3]); // what we told it

        byte[] record = new byte[64];
        for (long i = 0; i < Records; i++)
        {
            BitConverter.TryWriteBytes(record, i);
            L4Status status = producer.Write(record, L4Timeout.FromMilliseconds(10_000));
            Assert.True(status == L4Status.Ok, $"record {i}: {status} (a lost wake-up of the producer?)\nconsumer: {consumerChild.Output}");
        }

        string done = consumerChild.WaitForLine("DONE", 60_000);
        output.WriteLine($"consumer barrier {consumerBarrier}: {done}; producer stalls {producer.Stalls}, wakes {producer.WakeupsIssued}");
        string[] parts = done.Split(' ');
        Assert.Equal(Records.ToString(CultureInfo.InvariantCulture), parts[1]);
        long consumerStalls = long.Parse(parts[3], CultureInfo.InvariantCulture);
        Assert.True(consumerStalls > 1000 && producer.Stalls > 100, $"the handshake was hardly exercised: consumer stalls {consumerStalls}, producer stalls {producer.Stalls}");
    }
}
