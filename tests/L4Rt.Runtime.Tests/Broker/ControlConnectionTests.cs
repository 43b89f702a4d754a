using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>The SDK's control connection against a real broker: what a long-running service's calls cost it.</summary>
[Collection(ProcessCollection.Name)]
public class ControlConnectionTests
{
    [Fact]
    public async Task CallAsync_TenThousandCallsWithOneLongLivedToken_RetainNothingPerCall()
    {
        const int Calls = 10_000;
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();

        // The hosted-service pattern: every call passes the same stoppingToken, which is never cancelled.
        using CancellationTokenSource stopping = new();
        for (int i = 0; i < 2_000; i++)
        {
            await task.Factory.GetUsageAsync(stopping.Token);
        }

        long before = RetainedBytes();
        for (int i = 0; i < Calls; i++)
        {
            await task.Factory.GetUsageAsync(stopping.Token);
        }

        long after = RetainedBytes();
        double perCall = (after - before) / (double)Calls;

        // A registration left on the token costs ~180 B per call; allow a few bytes of heap noise in total.
        Assert.True(perCall < 8, $"the heap grew {after - before} B over {Calls} control calls ({perCall:0.0} B per call)");
        GC.KeepAlive(stopping);
    }

    private static long RetainedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
