using L4Rt.Hosting;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace L4Rt.Tests.Hosting;

/// <summary>A Generic Host service on L4Rt: AddL4Rt connects the task, AddL4RtServer serves a name, stop drains and cleans up.</summary>
[Collection(ProcessCollection.Name)]
public class HostingTests
{
    /// <summary>Replies MR0 + 1, counting what it served.</summary>
    private sealed class Incrementer : IL4RtHandler
    {
        public MsgTag Handle(L4Thread thread, in IpcResult request)
        {
            thread.Utcb.Mr[0]++;
            return new MsgTag(request.Tag.Protocol, 1);
        }
    }

    private sealed class Throwing : IL4RtHandler
    {
        public MsgTag Handle(L4Thread thread, in IpcResult request) => throw new InvalidOperationException("handler bug");
    }

    [Fact]
    public async Task HostedServer_StartsServesAndStops_NameGoneThreadsGoneHealthFollowsTheBroker()
    {
        using BrokerProcess broker = new();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddL4Rt(o => (o.SocketPath, o.Name) = (broker.SocketPath, "hosted"));
        builder.Services.AddL4RtServer<Incrementer>("svc/hosted", o => o.Label = 7);
        builder.Services.AddL4RtServer<Throwing>("svc/throwing");
        builder.Services.AddHealthChecks().AddL4RtBroker();
        using IHost host = builder.Build();
        await host.StartAsync();
        Assert.Equal(2, ServerThreads());

        await using L4Task client = await broker.ConnectAsync("client");
        Gate gate = await client.Names.QueryAsync<Gate>("svc/hosted", TimeSpan.FromSeconds(10));
        using (L4Thread me = new())
        {
            for (ulong i = 0; i < 100; i++)
            {
                me.Utcb.Mr[0] = i;
                Assert.Equal(L4Status.Ok, me.Call(gate, new MsgTag(3, 1), L4Timeout.FromMilliseconds(10_000)).Status);
                Assert.Equal(i + 1, me.Utcb.Mr[0]);
            }

            Gate throwing = await client.Names.QueryAsync<Gate>("svc/throwing", TimeSpan.FromSeconds(10));
            IpcResult failed = me.Call(throwing, new MsgTag(3, 1), L4Timeout.FromMilliseconds(10_000));
            Assert.Equal((L4Status.Ok, SystemProtocol.Exception), (failed.Status, failed.Tag.Protocol)); // the caller learns, the server goes on
            Assert.Equal(L4Status.Ok, me.Call(throwing, new MsgTag(3, 1), L4Timeout.FromMilliseconds(10_000)).Status);

            HealthReport health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            Assert.Equal(HealthStatus.Healthy, health.Status);
            Assert.Same(host.Services.GetRequiredService<L4RtConnection>().Task, host.Services.GetRequiredService<L4Task>());

            await host.StopAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(L4Status.NameNotFound, (await Assert.ThrowsAsync<L4RtException>(() => client.Names.QueryAsync("svc/hosted", TimeSpan.Zero))).Status);
            Assert.Equal(L4Status.DestinationDeleted, me.Call(gate, new MsgTag(3, 1), L4Timeout.FromMilliseconds(10_000)).Status);
        }

        // The task left: the broker learns it when it reads the closed connection, which a status request on the
        // client's own connection may overtake, so wait (bounded) for the broker's state to say so.
        System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using System.Text.Json.JsonDocument status = System.Text.Json.JsonDocument.Parse(await client.GetBrokerStatusJsonAsync());
            if (!status.RootElement.GetProperty("tasks").EnumerateArray().Any(t => t.GetProperty("name").GetString() == "hosted"))
            {
                break;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the stopped host's task is still listed after 10 s: {status.RootElement}");
            await Task.Delay(10);
        }

        Assert.Equal(0, ServerThreads()); // the loops ended (their OS threads are gone)
    }

    /// <summary>OS threads of this process named like a server loop ("l4rt-server …", cut to 15 characters by the kernel).</summary>
    private static int ServerThreads() =>
        Directory.GetDirectories("/proc/self/task").Count(t => File.ReadAllText(Path.Combine(t, "comm")).StartsWith("l4rt-server", StringComparison.Ordinal));

    [Fact]
    public async Task Start_WithoutABroker_RetriesUntilTheTimeout_ThenFailsWithOneClearError_BadOptionsRefusedAtStart()
    {
        using TempDir dir = new();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddL4Rt(o => (o.SocketPath, o.ConnectTimeout) = (dir.Socket("none.sock"), TimeSpan.FromMilliseconds(500)));
        using IHost host = builder.Build();
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => host.StartAsync());
        Assert.Equal(L4Status.BrokerLost, e.Status);
        Assert.Contains("within 00:00:00.5", e.Message, StringComparison.Ordinal);
        Assert.False(host.Services.GetRequiredService<L4RtConnection>().IsConnected);

        HostApplicationBuilder bad = Host.CreateApplicationBuilder();
        bad.Services.AddL4Rt(o => (o.Name, o.RetryDelay) = ("", TimeSpan.Zero));
        using IHost badHost = bad.Build();
        OptionsValidationException invalid = await Assert.ThrowsAsync<OptionsValidationException>(() => badHost.StartAsync());
        Assert.Contains("L4Rt:Name is empty", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("L4Rt:RetryDelay", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_NameAlreadyTaken_FailsClearly_AndLeavesNoServerThread()
    {
        using BrokerProcess broker = new();
        await using L4Task squatter = await broker.ConnectAsync("squatter");
        using L4Thread thread = await squatter.CreateThreadAsync();
        await squatter.Names.RegisterAsync("svc/taken", await squatter.Factory.CreateGateAsync(thread, 1));
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddL4Rt(o => o.SocketPath = broker.SocketPath);
        builder.Services.AddL4RtServer<Incrementer>("svc/taken");
        using IHost host = builder.Build();
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => host.StartAsync());
        Assert.Contains("svc/taken", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, ServerThreads());
    }

    [Fact]
    public async Task Start_BrokerAppearsLater_TheHostConnectsOnceItListens()
    {
        using TempDir dir = new();
        string socket = dir.Socket("late.sock");
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddL4Rt(o => (o.SocketPath, o.ConnectTimeout) = (socket, TimeSpan.FromSeconds(30)));
        using IHost host = builder.Build();
        Task starting = host.StartAsync();
        await Task.Delay(300);
        Assert.False(starting.IsCompleted); // still waiting for a broker
        using BrokerProcess broker = new("--SocketPath", socket); // the later --SocketPath wins over the helper's own
        await starting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(host.Services.GetRequiredService<L4RtConnection>().IsConnected);
        await host.StopAsync();
    }
}
