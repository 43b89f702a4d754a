using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using L4Rt.Samples.MediaStream;

// MediaStream: source → filter → sink as three processes, frames through zero-copy FIFO channels or a shared
// dataspace frame pool. `run` (the default) starts a private broker unless --socket is given, then the three stages
// as child processes, and prints frames, fps, GB/s and end-to-end latency per transport. `source`, `filter` and
// `sink` are the stages themselves (what `run` starts). Exit codes: 0 done, 1 the stream broke (a stage died or
// misbehaved: stderr says which), 2 bad usage.
Option<string> transport = new("--transport") { Description = "fifo, pool, or both (run only; both runs fifo, then pool)", DefaultValueFactory = _ => "both", Recursive = true };
transport.AcceptOnlyFromAmong("fifo", "pool", "both");
Option<int> width = Number("--width", "Frame width in pixels (even)", 1280);
Option<int> height = Number("--height", "Frame height in pixels (even)", 720);
Option<int> fps = Number("--fps", "Nominal frame rate: the source's pace unless --unthrottled, and the .y4m header's", 60);
Option<long> frames = new("--frames") { Description = "Frames to stream (0: no limit; default 300 unless --seconds is given)", Recursive = true };
Option<double> seconds = new("--seconds") { Description = "Seconds to stream (0: no limit)", Recursive = true };
Option<bool> unthrottled = new("--unthrottled") { Description = "Render as fast as the pipeline takes frames (throughput)", Recursive = true };
Option<string> socket = new("--socket") { Description = "An existing broker's socket (default for run: start a private broker)", Recursive = true };
Option<string> output = new("--output") { Description = "The .y4m file the sink writes ({transport} becomes fifo or pool; /dev/null to discard)", DefaultValueFactory = _ => "mediastream-{transport}.y4m", Recursive = true };
Option<int> ringFrames = Number("--ring-frames", "FIFO transport: frames each ring holds at least", 4);
Option<int> poolSlots = Number("--pool-slots", "Pool transport: frames in the pool", 8);
Option<bool> json = new("--json") { Description = "Print the run's summary as JSON", Recursive = true };
Option<string> run = new("--run") { Description = "Stage: the run's name (prefix of its names in the name service)", Recursive = true, Hidden = true };
Option<bool> controlled = new("--controlled") { Description = "Stage: driven by a runner through the control gates", Recursive = true, Hidden = true };

RootCommand root = new("MediaStream — source → filter → sink as three processes over L4Rt (FIFO channels or a dataspace frame pool)")
{
    transport, width, height, fps, frames, seconds, unthrottled, socket, output, ringFrames, poolSlots, json, run, controlled,
};
Command runCommand = new("run", "Start the broker (unless --socket) and the three stages, print the summary (the default)");
root.Subcommands.Add(runCommand);
root.SetAction((parse, _) => Run(parse));
runCommand.SetAction((parse, _) => Run(parse));
foreach (Stage stage in Enum.GetValues<Stage>())
{
    Command command = new(stage.ToString().ToLowerInvariant(), $"The {stage.ToString().ToLowerInvariant()} stage (run starts it)");
    command.SetAction((parse, _) => RunStage(parse, stage));
    root.Subcommands.Add(command);
}

ParseResult parsed = root.Parse(args);
if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction errors)
{
    errors.ShowHelp = false;
    await parsed.InvokeAsync();
    return 2;
}

return await parsed.InvokeAsync();

Task<int> Run(ParseResult parse)
{
    if (Options(parse) is not { } o)
    {
        return Task.FromResult(2);
    }

    Transport[] transports = parse.GetValue(transport) switch
    {
        "fifo" => [Transport.Fifo],
        "pool" => [Transport.Pool],
        _ => [Transport.Fifo, Transport.Pool],
    };
    return new Runner(o, transports).RunAsync();
}

Task<int> RunStage(ParseResult parse, Stage stage)
{
    string? t = parse.GetValue(transport);
    if (Options(parse) is not { } o || t is not ("fifo" or "pool") || o.Socket is null || o.Run.Length == 0)
    {
        Console.Error.WriteLine($"mediastream {stage.ToString().ToLowerInvariant()}: a stage needs --transport fifo|pool, --socket PATH and --run NAME");
        return Task.FromResult(2);
    }

    return StageProcess.RunAsync(stage, t == "fifo" ? Transport.Fifo : Transport.Pool, o);
}

MediaOptions? Options(ParseResult parse)
{
    try
    {
        long n = parse.GetValue(frames);
        double s = parse.GetValue(seconds);
        if (n < 0 || s < 0 || double.IsNaN(s))
        {
            throw new ArgumentException("--frames and --seconds take 0 or more");
        }

        return new MediaOptions
        {
            Geometry = new FrameGeometry(parse.GetValue(width), parse.GetValue(height), parse.GetValue(fps)),
            Frames = n == 0 && s == 0 && parse.GetResult(frames) is null ? 300 : n,
            Seconds = s,
            Unthrottled = parse.GetValue(unthrottled),
            Socket = parse.GetValue(socket),
            Output = parse.GetValue(output)!,
            RingFrames = parse.GetValue(ringFrames),
            PoolSlots = Math.Min(1024, parse.GetValue(poolSlots)),
            Json = parse.GetValue(json),
            Run = parse.GetValue(run) ?? "",
            Controlled = parse.GetValue(controlled),
        };
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine($"mediastream: {e.Message}");
        return null;
    }
}

static Option<int> Number(string name, string description, int defaultValue) => new(name)
{
    Description = description,
    DefaultValueFactory = _ => defaultValue,
    Recursive = true,
    CustomParser = result =>
    {
        string token = result.Tokens[0].Value;
        if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= 1)
        {
            return value;
        }

        result.AddError($"option '{name}': '{token}' is not a whole number from 1 to {int.MaxValue}");
        return defaultValue;
    },
};
