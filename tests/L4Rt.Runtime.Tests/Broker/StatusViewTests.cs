using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>What <c>l4rt status</c> shows whom: the whole broker to operators, a task's own view to the others.</summary>
[Collection(ProcessCollection.Name)]
public class StatusViewTests
{
    [Fact]
    public async Task TaskNote_IsShownBesideItsTask_ReplacedBySetting_AndBoundedInSize()
    {
        using BrokerProcess broker = new();
        await using L4Task alice = await broker.ConnectAsync("alice");
        await using L4Task bob = await broker.ConnectAsync("bob");
        await alice.SetNoteAsync("first");
        await alice.SetNoteAsync("exports x → peer ✓");

        using JsonDocument seen = JsonDocument.Parse(await bob.GetBrokerStatusJsonAsync());
        Dictionary<string, string?> notes = seen.RootElement.GetProperty("tasks").EnumerateArray()
            .ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("note").GetString());
        Assert.Equal("exports x → peer ✓", notes["alice"]);
        Assert.Equal("", notes["bob"]);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => alice.SetNoteAsync(new string('x', 4097)));
        await alice.SetNoteAsync(new string('x', 4096)); // the limit itself is fine
    }

    [Fact]
    public async Task Status_NotAnOperator_SeesItselfAndWhatItHolds_NotOtherTasks()
    {
        using BrokerProcess broker = new("--OperatorUids:0", "4242424"); // no test process has this uid
        await using L4Task alice = await broker.ConnectAsync("alice");
        await using L4Task bob = await broker.ConnectAsync("bob");
        using L4Thread aliceThread = await alice.CreateThreadAsync();
        using L4Thread bobThread = await bob.CreateThreadAsync();
        Gate shared = await alice.Factory.CreateGateAsync(aliceThread, 1);
        await alice.Factory.CreateGateAsync(aliceThread, 2); // private to alice
        await bob.Factory.CreateGateAsync(bobThread, 3); // private to bob
        await alice.Names.RegisterAsync("alice/svc", shared);
        await bob.Names.QueryAsync<Gate>("alice/svc", TimeSpan.Zero); // bob now holds a capability to alice's gate

        using JsonDocument seen = JsonDocument.Parse(await bob.GetBrokerStatusJsonAsync());
        JsonElement root = seen.RootElement;
        Assert.Equal("task", root.GetProperty("broker").GetProperty("view").GetString());
        Assert.Equal(["bob"], root.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        long[] gates = [.. root.GetProperty("gates").EnumerateArray().Select(g => g.GetProperty("task").GetInt64())];
        Assert.Equal(2, gates.Length); // its own and the one it holds a capability to, not alice's private one
        Assert.Contains((long)alice.Id, gates);
        Assert.Contains((long)bob.Id, gates);
        Assert.Single(root.GetProperty("threads").EnumerateArray()); // only its own
        Assert.Equal(broker.SocketPath, root.GetProperty("broker").GetProperty("socket").GetString()); // the effective value
        Assert.NotEmpty(root.GetProperty("broker").GetProperty("allowedUids").EnumerateArray());
    }

    [Fact]
    public async Task Status_Operator_SeesEveryTask()
    {
        using BrokerProcess broker = new(); // default operators: the broker's own uid, which the tests share
        await using L4Task alice = await broker.ConnectAsync("alice");
        await using L4Task bob = await broker.ConnectAsync("bob");
        using JsonDocument seen = JsonDocument.Parse(await bob.GetBrokerStatusJsonAsync());
        Assert.Equal("operator", seen.RootElement.GetProperty("broker").GetProperty("view").GetString());
        Assert.Equal(2, seen.RootElement.GetProperty("tasks").GetArrayLength());
    }

    [Fact]
    public async Task NameQuery_CancelledWhileWaiting_LeavesNothingWaitingInTheBroker()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();
        for (int i = 0; i < 100; i++)
        {
            using CancellationTokenSource cancel = new(TimeSpan.FromMilliseconds(5));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task.Names.QueryAsync("never/there", Timeout.InfiniteTimeSpan, cancel.Token));
        }

        int pending = -1;
        for (int attempt = 0; attempt < 100 && pending != 0; attempt++)
        {
            using JsonDocument status = JsonDocument.Parse(await task.GetBrokerStatusJsonAsync());
            pending = status.RootElement.GetProperty("broker").GetProperty("pendingNameQueries").GetInt32();
            await Task.Delay(pending == 0 ? 0 : 20);
        }

        Assert.Equal(0, pending); // each cancelled query reached the broker, which let it go
        Gate late = await task.Factory.CreateGateAsync(await task.CreateThreadAsync(), 1);
        await task.Names.RegisterAsync("never/there", late); // and registering it answers nobody stale
        Assert.Equal(CapKind.Gate, (await task.Names.QueryAsync("never/there", TimeSpan.Zero)).Kind);
    }
}
