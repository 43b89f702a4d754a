using System.Diagnostics;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>
/// <see cref="L4Task.ConnectAsync"/> while no broker listens yet: it waits without holding the caller and honours its token;
/// a broker that takes no connections (stopped) is given up on after the join timeout; a continued one serves again.
/// </summary>
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

    [Fact]
    public async Task ConnectAsync_AfterTheBrokerWasStoppedAndContinued_Joins()
    {
        // SIGSTOP + SIGCONT (Ctrl-Z and fg, a debugger) interrupts the broker's poll in its accept loop with EINTR.
        // That once read as "the listener shut down": the loop ended and no task could join again (a CI hang).
        using BrokerProcess broker = new();
        await using L4Task before = await broker.ConnectAsync("before");
        // Which of the broker's threads runs the runtime's SIGCONT handler (and so sees EINTR) is the kernel's choice:
        // enough rounds that the accept thread is very likely among them.
        for (int i = 0; i < 100; i++)
        {
            broker.Stop();
            await Task.Delay(2);
            broker.Continue();
            await Task.Delay(2);
        }

        L4TaskOptions options = broker.Options();
        options.Name = "after";
        options.JoinTimeout = TimeSpan.FromSeconds(5);
        await using L4Task after = await L4Task.ConnectAsync(options);
        Assert.Equal(broker.Pid, after.BrokerPid);
    }

    [Fact]
    public async Task ConnectAsync_BrokerTakesNoConnections_GivesBrokerLostAfterTheJoinTimeout()
    {
        using BrokerProcess broker = new();
        L4TaskOptions options = broker.Options();
        options.JoinTimeout = TimeSpan.FromMilliseconds(300);
        broker.Stop(); // the connection is queued by the kernel, the join never answered
        try
        {
            Stopwatch clock = Stopwatch.StartNew();
            L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => L4Task.ConnectAsync(options));
            Assert.Equal(L4Status.BrokerLost, e.Status);
            Assert.Contains("did not answer the join", e.Message, StringComparison.Ordinal);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"gave up only after {clock.Elapsed.TotalMilliseconds:0} ms");
        }
        finally
        {
            broker.Continue();
        }

        await using L4Task joined = await broker.ConnectAsync("once-continued"); // and the broker serves on
    }

    private static L4TaskOptions Options(TempDir dir, TimeSpan connectTimeout) =>
        new() { SocketPath = dir.Socket("broker.sock"), Name = "connect-test", ConnectTimeout = connectTimeout };
}
