using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Shared;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// The <c>run</c> mode: a private broker unless a socket is given, then per transport the three stages as child
/// processes, driven through their control gates (start, stats until the sink is done, stop on Ctrl-C). A stage that
/// fails makes the run fail: the others are given a few seconds to notice and report it, then everything still
/// running is killed. Nothing outlives the runner: the stages and the broker exit with it.
/// </summary>
internal sealed class Runner(MediaOptions options, IReadOnlyList<Transport> transports)
{
    private static readonly L4Timeout s_callTimeout = L4Timeout.FromSeconds(5);
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Runs every transport in turn and prints the summary; 0 when all completed, 1 when one failed.</summary>
    public async Task<int> RunAsync()
    {
        // Ctrl-C and SIGTERM stop gracefully: the source ends the stream, the sink closes the file, everything exits.
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

        using PrivateBroker? broker = options.Socket is null ? new PrivateBroker() : null;
        string socket = options.Socket ?? broker!.SocketPath;
        FrameGeometry g = options.Geometry;
        Status(string.Create(CultureInfo.InvariantCulture,
            $"mediastream: {g} I420 ({g.FrameSize} bytes a frame), {(options.Unthrottled ? "unthrottled" : $"{g.Fps} fps")}, {Limit()}; broker {(broker is null ? "" : $"pid {broker.Pid} ")}on {socket}"));
        List<RunResult> results = [];
        foreach (Transport transport in transports)
        {
            RunResult? result = await RunOneAsync(socket, transport);
            if (result is null)
            {
                return 1;
            }

            results.Add(result);
            if (_stop.IsCancellationRequested)
            {
                break;
            }
        }

        Console.WriteLine(options.Json ? Json(results) : string.Join('\n', results.Select(Line)));
        return 0;
    }

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        _stop.Cancel();
    }

    private string Limit() => options.Frames > 0 ? $"{options.Frames} frames" : options.Seconds > 0 ? $"{options.Seconds} s" : "until Ctrl-C";

    private void Status(string line)
    {
        if (!options.Json)
        {
            Console.Error.WriteLine(line);
        }
    }

    private async Task<RunResult?> RunOneAsync(string socket, Transport transport)
    {
        string run = StageNames.NewRun(transport);
        StageNames names = new(run);
        Dictionary<Stage, ManagedProcess> stages = [];
        try
        {
            foreach (Stage stage in new[] { Stage.Sink, Stage.Filter, Stage.Source })
            {
                stages[stage] = StartStage(stage, transport, run, socket);
            }

            await using L4Task task = await L4Task.ConnectAsync(new L4TaskOptions { SocketPath = socket, Name = "mediastream-runner", ConnectTimeout = TimeSpan.FromSeconds(10) });
            Gate? sink = await ControlGateAsync(task, names.Control(Stage.Sink), stages);
            Gate? filter = sink is null ? null : await ControlGateAsync(task, names.Control(Stage.Filter), stages);
            Gate? source = filter is null ? null : await ControlGateAsync(task, names.Control(Stage.Source), stages);
            if (sink is null || source is null)
            {
                return Failed(transport, stages, "a stage did not come up");
            }

            using L4Thread me = new();
            if (!Call(me, source, ControlOp.Start, out _))
            {
                return Failed(transport, stages, "the source did not take the start");
            }

            bool stopSent = false;
            long lastProgress = Stopwatch.GetTimestamp();
            while (true)
            {
                if (stages.Values.FirstOrDefault(p => p.HasExited && p.ExitCode != 0) is { } dead)
                {
                    return Failed(transport, stages, $"{dead} exited with code {dead.ExitCode}");
                }

                if (stages[Stage.Sink].HasExited)
                {
                    return Failed(transport, stages, "the sink exited before it reported the end of the stream");
                }

                if (_stop.IsCancellationRequested && !stopSent)
                {
                    stopSent = true;
                    Status($"{Name(transport)}: stopping (Ctrl-C or SIGTERM): the source ends the stream");
                    Call(me, source, ControlOp.Stop, out _);
                }

                if (!Call(me, sink, ControlOp.Stats, out StageStats stats))
                {
                    Thread.Sleep(100);
                    continue; // the sink is gone: the exit check above says how once it has exited
                }

                if (stats.State == StageState.Done)
                {
                    if (!WaitForExits(stages))
                    {
                        return Failed(transport, stages, "a stage did not exit after the end of the stream");
                    }

                    return new RunResult(transport, stats, options.OutputFor(transport));
                }

                if (Stopwatch.GetElapsedTime(lastProgress) >= TimeSpan.FromSeconds(1))
                {
                    lastProgress = Stopwatch.GetTimestamp();
                    Status(string.Create(CultureInfo.InvariantCulture, $"{Name(transport)}: {stats.Frames} frames, {stats.Fps:0.0} fps, latency p50 {stats.P50Ns / 1e6:0.00} ms"));
                }

                Thread.Sleep(100);
            }
        }
        catch (L4RtException e)
        {
            return Failed(transport, stages, $"{e.Status}: {e.Message}");
        }
        finally
        {
            foreach (ManagedProcess stage in stages.Values)
            {
                stage.Dispose(); // kills it if it still runs
            }
        }
    }

    /// <summary>The stage's control gate once it is registered (the stage is set up then); null when a stage died first or 60 s passed.</summary>
    private async Task<Gate?> ControlGateAsync(L4Task task, string name, Dictionary<Stage, ManagedProcess> stages)
    {
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(60) && !_stop.IsCancellationRequested)
        {
            if (stages.Values.Any(p => p.HasExited))
            {
                return null;
            }

            try
            {
                return await task.Names.QueryAsync<Gate>(name, TimeSpan.FromMilliseconds(250));
            }
            catch (L4RtException e) when (e.Status is L4Status.NameNotFound or L4Status.ReceiveTimeout)
            {
            }
        }

        return null;
    }

    private static bool Call(L4Thread me, Gate gate, int op, out StageStats stats)
    {
        StageControlClient control = new(me, gate, s_callTimeout); // the generated contract client
        stats = default;
        return op switch
        {
            ControlOp.Start => control.TryStart() == L4Status.Ok,
            ControlOp.Stop => control.TryStop() == L4Status.Ok,
            _ => control.TryStats(out stats) == L4Status.Ok,
        };
    }

    /// <summary>Every stage exited 0 within the grace time.</summary>
    private static bool WaitForExits(Dictionary<Stage, ManagedProcess> stages) =>
        stages.Values.All(p => p.WaitForExit(s_grace) && p.ExitCode == 0);

    /// <summary>Gives the other stages the grace time to notice and report, prints what each said, and fails the run.</summary>
    private RunResult? Failed(Transport transport, Dictionary<Stage, ManagedProcess> stages, string why)
    {
        foreach (ManagedProcess stage in stages.Values)
        {
            stage.WaitForExit(s_grace);
        }

        Console.Error.WriteLine($"{Name(transport)}: the run failed: {why}");
        foreach ((Stage stage, ManagedProcess process) in stages)
        {
            string exit = process.HasExited ? $"exit code {process.ExitCode}" : "still running after the grace time: killed";
            Console.Error.WriteLine($"  {stage.ToString().ToLowerInvariant()} ({exit}):");
            foreach (string line in process.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Console.Error.WriteLine($"    {line}");
            }
        }

        return null;
    }

    private ManagedProcess StartStage(Stage stage, Transport transport, string run, string socket)
    {
        string self = Environment.ProcessPath!;
        ProcessStartInfo info = new(self) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(Runner).Assembly.Location);
        }

        FrameGeometry g = options.Geometry;
        string[] args =
        [
            stage.ToString().ToLowerInvariant(), "--transport", Name(transport), "--socket", socket, "--run", run, "--controlled",
            "--width", Invariant(g.Width), "--height", Invariant(g.Height), "--fps", Invariant(g.Fps),
            "--frames", Invariant(options.Frames), "--seconds", Invariant(options.Seconds),
            "--ring-frames", Invariant(options.RingFrames), "--pool-slots", Invariant(options.PoolSlots), "--output", options.Output,
        ];
        foreach (string arg in options.Unthrottled ? [.. args, "--unthrottled"] : args)
        {
            info.ArgumentList.Add(arg);
        }

        return ManagedProcess.Start(info);
    }

    private static string Invariant<T>(T value)
        where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);

    private static string Name(Transport transport) => transport.ToString().ToLowerInvariant();

    private static string Line(RunResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{Name(r.Transport),-5} {r.Stats.Frames} frames in {r.Stats.ElapsedNs / 1e9:0.000} s: {r.Stats.Fps:0.0} fps, {r.Stats.GigabytesPerSecond:0.000} GB/s, latency p50 {r.Stats.P50Ns / 1e6:0.000} ms p99 {r.Stats.P99Ns / 1e6:0.000} ms max {r.Stats.MaxNs / 1e6:0.000} ms -> {r.Output}");

    private string Json(List<RunResult> results)
    {
        using MemoryStream buffer = new();
        using (Utf8JsonWriter json = new(buffer))
        {
            FrameGeometry g = options.Geometry;
            json.WriteStartObject();
            json.WriteNumber("width", g.Width);
            json.WriteNumber("height", g.Height);
            json.WriteNumber("frameBytes", g.FrameSize);
            json.WriteNumber("nominalFps", g.Fps);
            json.WriteBoolean("unthrottled", options.Unthrottled);
            json.WriteStartArray("runs");
            foreach (RunResult r in results)
            {
                json.WriteStartObject();
                json.WriteString("transport", Name(r.Transport));
                json.WriteNumber("frames", r.Stats.Frames);
                json.WriteNumber("seconds", Math.Round(r.Stats.ElapsedNs / 1e9, 6));
                json.WriteNumber("fps", Math.Round(r.Stats.Fps, 2));
                json.WriteNumber("gbps", Math.Round(r.Stats.GigabytesPerSecond, 4));
                json.WriteNumber("latencyP50Ms", Math.Round(r.Stats.P50Ns / 1e6, 4));
                json.WriteNumber("latencyP99Ms", Math.Round(r.Stats.P99Ns / 1e6, 4));
                json.WriteNumber("latencyMaxMs", Math.Round(r.Stats.MaxNs / 1e6, 4));
                json.WriteString("output", r.Output);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
