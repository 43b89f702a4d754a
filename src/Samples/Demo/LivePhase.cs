using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Samples.Echo;
using L4Rt.Samples.MediaStream;
using L4Rt.Shared;
using Spectre.Console;

namespace L4Rt.Samples.Demo;

/// <summary>
/// The demo's live part: the Echo sample's server (a Generic Host service) and the MediaStream sample (source → filter
/// → sink, 1280×720 I420 through FIFO channels) run as their own processes, this process calls Echo as fast as it
/// answers, and a live view shows calls/s, RTT p50/p99, frames/s, GB/s and this process's futex wake-ups each second
/// (Spectre.Console; plain lines when the output is redirected), then a summary.
/// </summary>
internal sealed class LivePhase
{
    private readonly string _socket;
    private readonly L4Task _task;
    private readonly int _seconds;
    private readonly bool _quiet;
    private readonly LatencyHistogram _total = new(); // every Echo RTT of the live part, for the summary (the caller thread's alone)
    private volatile EchoWindow _window = new(0, 0, 0);
    private long _calls;
    private volatile bool _stop;

    internal LivePhase(string socket, L4Task task, int seconds, bool quiet)
    {
        _socket = socket;
        _task = task;
        _seconds = seconds;
        _quiet = quiet;
    }

    /// <summary>One second of Echo calls: how many, and their RTT percentiles (ns).</summary>
    private sealed record EchoWindow(long Calls, long P50Ns, long P99Ns);

    /// <summary>What the live part measured, for the summary.</summary>
    internal sealed record Summary(long EchoCalls, double EchoCallsPerSecond, double RttP50Us, double RttP99Us, long Frames, double Fps, double Gbps, double FrameLatencyP50Ms, double FrameLatencyP99Ms, long Wakeups);

    internal async Task<Summary> RunAsync(CancellationToken ct)
    {
        using ManagedProcess echo = ManagedProcess.Start("dotnet", [Sibling("Echo", "L4Rt.Samples.Echo.dll"), "server", $"--L4Rt:SocketPath={_socket}"],
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" });
        using ManagedProcess media = ManagedProcess.Start("dotnet",
            [Sibling("MediaStream", "L4Rt.Samples.MediaStream.dll"), "--socket", _socket, "--transport", "fifo", "--unthrottled",
             "--seconds", _seconds.ToString(CultureInfo.InvariantCulture), "--output", "/dev/null", "--json"]);
        Gate gate = await _task.Names.QueryAsync<Gate>("echo/increment", TimeSpan.FromSeconds(30), ct);
        string sinkName = new StageNames($"{media.Pid}-fifo").Control(Stage.Sink);

        Thread caller = new(() => Call(gate)) { IsBackground = true, Name = "demo echo caller" };
        using MeterListener wakeups = WakeupCounter(out Func<long> readWakeups);
        caller.Start();

        Gate? sink = null;
        StageStats last = default;
        long lastWakeups = readWakeups();
        Stopwatch clock = Stopwatch.StartNew();
        async Task Tick(Action<string[][]> show)
        {
            for (int second = 1; second <= _seconds && !ct.IsCancellationRequested; second++)
            {
                TimeSpan untilTick = TimeSpan.FromSeconds(second) - clock.Elapsed; // ticks on the second, however long the last one took
                if (untilTick > TimeSpan.Zero)
                {
                    await Task.Delay(untilTick, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                sink ??= await TryQuery(sinkName).ConfigureAwait(false);
                StageStats now = sink is null ? default : Stats(sink);
                EchoWindow w = _window;
                long wakes = readWakeups();
                double frames = now.Frames - last.Frames;
                double gb = (now.Bytes - last.Bytes) / 1e9;
                show(
                [
                    ["second", second.ToString(CultureInfo.InvariantCulture)],
                    ["echo calls/s", w.Calls.ToString("N0", CultureInfo.InvariantCulture)],
                    ["echo RTT p50 / p99", $"{w.P50Ns / 1000.0:0.00} / {w.P99Ns / 1000.0:0.00} µs"],
                    ["media frames/s (1280×720)", frames.ToString("0", CultureInfo.InvariantCulture)],
                    ["media GB/s", gb.ToString("0.00", CultureInfo.InvariantCulture)],
                    ["futex wake-ups/s (this process)", (wakes - lastWakeups).ToString("N0", CultureInfo.InvariantCulture)],
                ]);
                last = now;
                lastWakeups = wakes;
            }
        }

        if (_quiet || Console.IsOutputRedirected)
        {
            await Tick(r => { if (!_quiet) Console.WriteLine("live:   " + string.Join(", ", r.Select(c => $"{c[0]} {c[1]}"))); }).ConfigureAwait(false);
        }
        else
        {
            Table table = new Table().Border(TableBorder.Rounded).AddColumn("L4Rt demo, live").AddColumn(new TableColumn("this second").RightAligned());
            await AnsiConsole.Live(table).StartAsync(async ctx => await Tick(r =>
            {
                table.Rows.Clear();
                foreach (string[] row in r)
                {
                    table.AddRow(Markup.Escape(row[0]), Markup.Escape(row[1]));
                }

                ctx.Refresh();
            }).ConfigureAwait(false)).ConfigureAwait(false);
        }

        _stop = true;
        caller.Join();
        ct.ThrowIfCancellationRequested(); // Ctrl-C: the samples are killed as this unwinds (their ManagedProcess is disposed)
        double elapsed = clock.Elapsed.TotalSeconds;
        long totalWakeups = readWakeups();

        // The media run ends by itself after its --seconds; its JSON summary is the final word on frames and latency.
        JsonElement run = default;
        if (media.WaitForExit(TimeSpan.FromSeconds(60)) && media.ExitCode == 0)
        {
            using JsonDocument doc = JsonDocument.Parse(media.Stdout);
            run = doc.RootElement.GetProperty("runs")[0].Clone();
        }
        else
        {
            throw new InvalidOperationException($"the MediaStream sample failed (exit {(media.HasExited ? media.ExitCode : -1)}):\n{media.Output}");
        }

        echo.Signal("TERM"); // a clean stop: the name is unregistered, in-flight calls drained
        echo.WaitForExit(TimeSpan.FromSeconds(10));
        return new Summary(Interlocked.Read(ref _calls), Interlocked.Read(ref _calls) / elapsed, _total.Percentile(0.5) / 1000.0, _total.Percentile(0.99) / 1000.0,
            run.GetProperty("frames").GetInt64(), run.GetProperty("fps").GetDouble(), run.GetProperty("gbps").GetDouble(),
            run.GetProperty("latencyP50Ms").GetDouble(), run.GetProperty("latencyP99Ms").GetDouble(), totalWakeups);
    }

    /// <summary>Calls Echo back to back (its contract: 8 words, each reply checked), publishing each second's count and percentiles.</summary>
    private void Call(Gate gate)
    {
        using L4Thread me = new();
        EchoClient echo = new(me, gate, L4Timeout.FromSeconds(5)); // the Echo sample's generated contract client
        EchoWords message = default;
        LatencyHistogram second = new();
        long windowStart = Stopwatch.GetTimestamp();
        for (ulong i = 0; !_stop; i++)
        {
            message[0] = i;
            long start = Stopwatch.GetTimestamp();
            L4Status status = echo.TryIncrement(message, out EchoWords reply);
            long end = Stopwatch.GetTimestamp();
            if (status != L4Status.Ok || reply[0] != i + 1)
            {
                break;
            }

            long ns = (long)Stopwatch.GetElapsedTime(start, end).TotalNanoseconds;
            second.Record(ns);
            _total.Record(ns);
            Interlocked.Increment(ref _calls);
            if (Stopwatch.GetElapsedTime(windowStart, end) >= TimeSpan.FromSeconds(1))
            {
                _window = new EchoWindow(second.Count, second.Percentile(0.5), second.Percentile(0.99));
                second = new LatencyHistogram();
                windowStart = end;
            }
        }
    }

    private async Task<Gate?> TryQuery(string name)
    {
        try
        {
            return await _task.Names.QueryAsync<Gate>(name, TimeSpan.Zero).ConfigureAwait(false);
        }
        catch (L4RtException)
        {
            return null; // not registered yet (the stage is starting) or already gone
        }
    }

    private static StageStats Stats(Gate sink)
    {
        using L4Thread me = new();
        return new StageControlClient(me, sink, L4Timeout.FromSeconds(1)).TryWatch(out StageStats stats) == L4Status.Ok ? stats : default; // MediaStream's control contract, as an onlooker (the runner takes the final stats)
    }

    /// <summary>This process's futex wake-ups, from the SDK's meter <c>L4Rt.Ipc</c> (<c>l4rt.ipc.wakeups</c>).</summary>
    private static MeterListener WakeupCounter(out Func<long> read)
    {
        long value = 0;
        MeterListener listener = new();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "L4Rt.Ipc" && instrument.Name == "l4rt.ipc.wakeups")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, measurement, _, _) => Interlocked.Exchange(ref value, measurement));
        listener.Start();
        read = () =>
        {
            listener.RecordObservableInstruments();
            return Interlocked.Read(ref value);
        };
        return listener;
    }

    /// <summary>A sibling sample's build output (same configuration as this one).</summary>
    private static string Sibling(string project, string dll)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        return Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", project, "bin", configuration, "net10.0", dll));
    }
}
