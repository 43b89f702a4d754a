using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Faults;

/// <summary>
/// The broker the task-victim rows of the crash matrix share (each row restores its baseline, so the next starts from the
/// same state), an observer task that only asks for status, and the matrix's results, written as JSON after every row.
/// </summary>
public sealed class CrashMatrixFixture : IAsyncLifetime
{
    private readonly List<CrashOutcome> _results = [];
    private BrokerProcess? _broker;
    private L4Task? _observer;

    public BrokerProcess Broker => _broker ?? throw new InvalidOperationException("not started");

    public L4Task Observer => _observer ?? throw new InvalidOperationException("not started");

    /// <summary>Where the summary goes: <c>$L4RT_RELIABILITY_OUT</c> (a file, or a directory to put crash-matrix.json in), else the temp directory.</summary>
    public static string SummaryPath
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable("L4RT_RELIABILITY_OUT");
            return string.IsNullOrEmpty(configured) ? Path.Combine(Path.GetTempPath(), "l4rt-crash-matrix.json")
                : Directory.Exists(configured) ? Path.Combine(configured, "crash-matrix.json")
                : configured;
        }
    }

    public async Task InitializeAsync()
    {
        _broker = new BrokerProcess();
        _observer = await _broker.ConnectAsync("observer");
        await WarmUpAsync();
    }

    public async Task DisposeAsync()
    {
        if (_observer is not null)
        {
            await _observer.DisposeAsync();
        }

        _broker?.Dispose();
    }

    /// <summary>Adds one row's outcome and rewrites the summary (so a run cut short still leaves what it measured).</summary>
    public string Record(CrashOutcome outcome)
    {
        lock (_results)
        {
            _results.RemoveAll(r => r.Role == outcome.Role && r.Point == outcome.Point);
            _results.Add(outcome);
            var summary = new
            {
                generatedUtc = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                detectionBoundMs = CrashMatrixTests.DetectionBoundMs,
                productTargetMs = 100,
                detectionMeasuredAs = "from the SIGKILL to the survivor's blocked operation returning; for a survivor that was not blocked, to the first poll (every 2 ms) that shows the death: the broker's status, the shared dead flag, or the survivor's next operation",
                rows = _results.OrderBy(r => r.Role, StringComparer.Ordinal).ThenBy(r => r.Point, StringComparer.Ordinal),
                notApplicable = CrashMatrixTests.NotApplicable.Select(n => new { role = n.Role, point = n.Point, why = n.Why }),
            };
            string json = JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true });
            string path = SummaryPath;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, json);
            return JsonSerializer.Serialize(outcome);
        }
    }

    /// <summary>
    /// Runs every broker path the rows use once (links, calls, IRQs, channels, dataspaces, names, items, a task's death),
    /// so what the broker loads or grows lazily on first use is in every row's baseline, not counted as that row's leak.
    /// </summary>
    private async Task WarmUpAsync()
    {
        await using (L4Task a = await Broker.ConnectAsync("warm-up"))
        {
            using L4Thread server = await a.CreateThreadAsync();
            server.Utcb.SetReceiveBuffers(1);
            Gate gate = await a.Factory.CreateGateAsync(server, 1);
            await a.Names.RegisterAsync("crash/warm-up", gate);
            Irq irq = await a.Factory.CreateIrqAsync(server, 2);
            Assert.Equal(L4Status.Ok, irq.Trigger());
            Assert.Equal(L4Status.Ok, server.Wait(L4Timeout.FromMilliseconds(5000)).Status);
            Channel channel = await a.Factory.CreateChannelAsync(1 << 14);
            using (L4Rt.Channels.ChannelProducer producer = await channel.OpenProducerAsync())
            using (L4Rt.Channels.ChannelConsumer consumer = await channel.OpenConsumerAsync())
            {
                Assert.Equal(L4Status.Ok, producer.Write([1, 2, 3], L4Timeout.Zero));
                Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.FromMilliseconds(5000), out _));
                consumer.Release();
            }

            Dataspace dataspace = await a.Factory.CreateDataspaceAsync(1 << 16);
            using (DataspaceMapping mapping = await dataspace.MapAsync(Protocol.CapRights.Write))
            {
                Assert.Equal(L4Status.Ok, mapping.Write(0, [1]));
            }

            using ChildProcess child = ChildProcess.Start("crash", Broker.SocketPath, "cap-holder", "item-transfer", "crash/warm-up");
            child.WaitForLine("READY");
            Assert.Equal(L4Status.Ok, server.Wait(L4Timeout.FromMilliseconds(10_000)).Status); // an item accepted
            child.Kill();
        }

        Assert.True(await CrashMatrixTests.PollAsync(async () => (await BrokerSnapshot.TakeAsync(Broker, Observer)).Tasks == 1, 10_000) >= 0, "the warm-up's tasks never left");
    }
}
