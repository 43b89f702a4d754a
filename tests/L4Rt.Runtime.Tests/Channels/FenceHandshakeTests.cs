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
