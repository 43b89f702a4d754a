using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>Links of short-lived sender threads do not accumulate: disposing the thread closes its link in the broker.</summary>
[Collection(ProcessCollection.Name)]
public class LinkLifetimeTests
{
    [Fact]
    public async Task ShortLivedCallerThreads_LinksClosedOnDispose_QuotaAndLinkCountReturn()
    {
        using BrokerProcess broker = new();
        await using L4Task server = await broker.ConnectAsync("server");
        await using L4Task client = await broker.ConnectAsync("client");
        using L4Thread receiver = await server.CreateThreadAsync();
        Gate gate = await server.Factory.CreateGateAsync(receiver, 1);
        await server.Names.RegisterAsync("echo", gate);
        Gate echo = await client.Names.QueryAsync<Gate>("echo", TimeSpan.FromSeconds(5));
        FactoryUsage before = await client.Factory.GetUsageAsync();
        Thread serving = CapabilityTests.StartEcho(receiver, 200);

        for (int i = 0; i < 200; i++)
        {
            using L4Thread caller = new();
            Assert.Equal(L4Status.Ok, caller.Call(echo, new MsgTag(1, 1), L4Timeout.FromMilliseconds(5000)).Status);
        }

        serving.Join();
        int links = -1;
        for (int attempt = 0; attempt < 50 && links != 0; attempt++)
        {
            await Task.Delay(20); // link closes are sent asynchronously
            using JsonDocument status = JsonDocument.Parse(await client.GetBrokerStatusJsonAsync());
            links = status.RootElement.GetProperty("gates").EnumerateArray().Sum(g => g.GetProperty("links").GetInt32());
        }

        Assert.Equal(0, links);
        Assert.Equal(before, await client.Factory.GetUsageAsync()); // 200 × 4 KiB of link regions refunded
    }
}
