using System.Diagnostics;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary><see cref="L4Task.ConnectAsync"/> while no broker listens yet: it waits without holding the caller and honours its token.</summary>
[Collection(ProcessCollection.Name)]
public class ConnectTests
{
    [Fact]
    public async Task ConnectAsync_NoBrokerYet_ReturnsAnIncompleteTaskAtOnce()
    {
        using TempDir dir = new();
        using CancellationTokenSource cts = new();
        Stopwatch clock = Stopwatch.StartNew();
        Task<L4Task> connecting = L4Task.ConnectAsync(Options(dir, TimeSpan.FromSeconds(10)), cts.Token);
        TimeSpan returnedAfter = clock.Elapsed;
        bool completed = connecting.IsCompleted;
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting);
        Assert.False(completed, "ConnectAsync completed before any broker listened");
        Assert.True(returnedAfter < TimeSpan.FromMilliseconds(500), $"ConnectAsync held its caller for {returnedAfter.TotalMilliseconds:0} ms while no broker listened");
    }

    [Fact]
    public async Task ConnectAsync_CancelledWhileWaitingForTheBroker_ThrowsOperationCanceledPromptly()
    {
        using TempDir dir = new();
        using CancellationTokenSource cts = new(TimeSpan.FromMilliseconds(100));
        Stopwatch clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => L4Task.ConnectAsync(Options(dir, TimeSpan.FromSeconds(10)), cts.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"cancelled after 100 ms, ConnectAsync ended only after {clock.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task ConnectAsync_AlreadyCancelled_ThrowsWithoutConnecting()
    {
        using BrokerProcess broker = new();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => L4Task.ConnectAsync(broker.Options(), new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task ConnectAsync_BrokerStartsWhileWaiting_Joins()
    {
        using TempDir dir = new();
        L4TaskOptions options = Options(dir, TimeSpan.FromSeconds(30));
        Task<L4Task> connecting = L4Task.ConnectAsync(options);
        using BrokerProcess broker = new("--SocketPath", options.SocketPath);
        await using L4Task task = await connecting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(broker.Pid, task.BrokerPid);
    }

    private static L4TaskOptions Options(TempDir dir, TimeSpan connectTimeout) =>
        new() { SocketPath = dir.Socket("broker.sock"), Name = "connect-test", ConnectTimeout = connectTimeout };
}
