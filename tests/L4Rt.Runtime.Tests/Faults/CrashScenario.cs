using System.Diagnostics;
using System.Text.Json;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Faults;

/// <summary>
/// One row of the crash matrix in flight: the survivor task (in the test process), the victim child, and the
/// survivor's own holdings before the victim started, which must be what it holds again once the victim is gone.
/// Disposing kills the victim if it still runs and disconnects the survivor.
/// </summary>
public sealed class CrashScenario : IAsyncDisposable
{
    private readonly List<ChildProcess> _children = [];
    private (int Capabilities, int SendLinks, long UsedBytes, int UsedObjects)? _survivorBefore;

    private CrashScenario(BrokerProcess broker, L4Task observer, L4Task survivor, string role, string point)
    {
        Broker = broker;
        Observer = observer;
        Survivor = survivor;
        Role = role;
        Point = point;
    }

    public BrokerProcess Broker { get; }

    public L4Task Observer { get; }

    public L4Task Survivor { get; }

    public string Role { get; }

    public string Point { get; }

    /// <summary>The name the survivor or the victim registers for this row.</summary>
    public string Name => $"crash/{Role}/{Point}";

    public ChildProcess? Victim { get; private set; }

    public static async Task<CrashScenario> StartAsync(BrokerProcess broker, L4Task observer, string role, string point) =>
        new(broker, observer, await broker.ConnectAsync("survivor"), role, point);

    /// <summary>
    /// Starts the victim (<c>crash</c> mode of the test child) and waits for its readiness line; the survivor's holdings
    /// are taken first, unless <see cref="MarkSurvivorAsync"/> took them already.
    /// </summary>
    public async Task<string> StartVictimAsync(string ready = "READY", params string[] extra)
    {
        if (_survivorBefore is null)
        {
            await MarkSurvivorAsync();
        }

        Victim = ChildProcess.Start(["crash", Broker.SocketPath, Role, Point, Name, .. extra]);
        _children.Add(Victim);
        return Victim.WaitForLine(ready);
    }

    /// <summary>Takes the survivor's holdings now: what it must hold again after the victim's death.</summary>
    public async Task MarkSurvivorAsync() => _survivorBefore = await SurvivorHoldingsAsync();

    /// <summary>SIGKILLs the victim; the monotonic (Stopwatch) timestamp right after the kill.</summary>
    public long KillVictim() => (Victim ?? throw new InvalidOperationException("no victim")).Kill();

    /// <summary>Polls the broker until the victim's task is gone; the timestamp it was first seen gone, or -1 after the bound.</summary>
    public async Task<long> AwaitVictimGoneAsync(int timeoutMs = 5000)
    {
        int pid = Victim!.Pid;
        return await CrashMatrixTests.PollAsync(
            async () =>
            {
                using JsonDocument status = JsonDocument.Parse(await Observer.GetBrokerStatusJsonAsync());
                return !status.RootElement.GetProperty("tasks").EnumerateArray().Any(t => t.GetProperty("pid").GetInt32() == pid);
            },
            timeoutMs);
    }

    /// <summary>Waits (bounded) until the survivor holds what it held before the victim started; null when it does, else what differs.</summary>
    private async Task<string?> AwaitSurvivorRestoredAsync()
    {
        if (_survivorBefore is not { } before)
        {
            return null;
        }

        (int, int, long, int) now = default;
        long at = await CrashMatrixTests.PollAsync(async () => (now = await SurvivorHoldingsAsync()) == before, 5000);
        return at >= 0 ? null : $"survivor (caps, send links, bytes, objects) {now}, before the victim {before}";
    }

    /// <summary>
    /// The row's observation, once the survivor holds again what it held before the victim started (checked here, inside
    /// the scenario, while the survivor's own objects still exist).
    /// </summary>
    public async Task<Seen> SeenAsync(string outcome, long at)
    {
        SurvivorDifference = await AwaitSurvivorRestoredAsync();
        return new(outcome, at);
    }

    /// <inheritdoc cref="SeenAsync(string, long)"/>
    public Task<Seen> SeenAsync(Seen seen) => SeenAsync(seen.Outcome, seen.At);

    /// <summary>What the survivor held differently after the death (null: the same, or not checked).</summary>
    public string? SurvivorDifference { get; private set; }

    public async ValueTask DisposeAsync()
    {
        foreach (ChildProcess child in _children)
        {
            child.Dispose();
        }

        await Survivor.DisposeAsync();
    }

    private async Task<(int Capabilities, int SendLinks, long UsedBytes, int UsedObjects)> SurvivorHoldingsAsync()
    {
        using JsonDocument status = JsonDocument.Parse(await Observer.GetBrokerStatusJsonAsync());
        foreach (JsonElement task in status.RootElement.GetProperty("tasks").EnumerateArray())
        {
            if (task.GetProperty("pid").GetInt32() == Environment.ProcessId && task.GetProperty("name").GetString() == "survivor")
            {
                JsonElement quota = task.GetProperty("quota");
                return (task.GetProperty("capabilities").GetInt32(), task.GetProperty("sendLinks").GetInt32(), quota.GetProperty("usedBytes").GetInt64(), quota.GetProperty("usedObjects").GetInt32());
            }
        }

        throw new InvalidOperationException("the survivor task is not in the broker's status");
    }
}

/// <summary>What the survivor saw: the status (or event) it reports, and when it saw it (Stopwatch timestamp; 0: not timed).</summary>
public readonly record struct Seen(string Outcome, long At);

/// <summary>A blocking operation run on its own thread, with the timestamp it returned at.</summary>
public sealed class Blocked<T>
{
    private readonly Thread _thread;
    private T? _result;
    private Exception? _error;
    private long _returnedAt;

    public Blocked(Func<T> body)
    {
        _thread = new Thread(() =>
        {
            try
            {
                _result = body();
            }
            catch (Exception e)
            {
                _error = e;
            }

            Volatile.Write(ref _returnedAt, Stopwatch.GetTimestamp());
        })
        { IsBackground = true, Name = "crash-matrix survivor" };
        _thread.Start();
    }

    public bool HasReturned => Volatile.Read(ref _returnedAt) != 0;

    /// <summary>The result once returned within <paramref name="timeoutMs"/>; fails the test naming <paramref name="what"/> otherwise.</summary>
    public (T Result, long At) Join(string what, int timeoutMs = CrashMatrixTests.HangBoundMs)
    {
        Assert.True(_thread.Join(timeoutMs), $"hang: {what} still blocked after {timeoutMs} ms");
        return _error is not null ? throw new InvalidOperationException($"{what} threw", _error) : (_result!, _returnedAt);
    }
}
