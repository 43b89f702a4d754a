using System.Diagnostics;
using System.Globalization;
using L4Rt.Objects;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// One stage as its own process: joins the broker, connects to its neighbours (<see cref="StageSetup"/>), registers its
/// control gate, runs its data path on this thread, and exits 0 at the end of the stream, 1 when the stream broke
/// (a neighbour died or misbehaved: one line on stderr says which and how), 2 on bad usage.
/// </summary>
internal static class StageProcess
{
    /// <summary>Runs <paramref name="stage"/> to the end of the stream: the process's exit code.</summary>
    public static async Task<int> RunAsync(Stage stage, Transport transport, MediaOptions o)
    {
        ProcessLifetime.ExitWhenParentExits(); // never outlive the runner
        string who = stage.ToString().ToLowerInvariant();
        StageNames names = new(o.Run);
        StageControl control = new(o.Geometry.FrameSize);
        try
        {
            await using L4Task task = await L4Task.ConnectAsync(new L4TaskOptions
            {
                SocketPath = o.Socket!,
                Name = $"mediastream-{who}",
                ConnectTimeout = TimeSpan.FromSeconds(10),
            });
            switch (stage)
            {
                case Stage.Source:
                {
                    using FrameOutput output = await StageSetup.SourceAsync(task, names, o, transport);
                    using ControlServer server = await ControlServer.StartAsync(task, names.Control(stage), control);
                    if (o.Controlled)
                    {
                        control.Started.Wait();
                    }

                    Source(output, o, control);
                    Console.WriteLine($"source: {control.Frames} frames rendered, stream completed");
                    break;
                }

                case Stage.Filter:
                {
                    (FrameInput input, FrameOutput output) = await StageSetup.FilterAsync(task, names, o, transport);
                    using (input)
                    using (output)
                    using (ControlServer server = await ControlServer.StartAsync(task, names.Control(stage), control))
                    {
                        Filter(input, output, new GrayBlur(o.Geometry), control);
                    }

                    Console.WriteLine($"filter: {control.Frames} frames filtered, stream completed");
                    break;
                }

                default:
                {
                    using FrameInput input = await StageSetup.SinkAsync(task, names, o, transport);
                    string path = o.OutputFor(transport);
                    Console.WriteLine($"sink: ready, writing {path}"); // also makes the console ready before the first frame
                    using ControlServer server = await ControlServer.StartAsync(task, names.Control(stage), control);
                    using (Y4mWriter writer = new(path, o.Geometry))
                    {
                        Sink(input, writer, control);
                    }

                    control.State = StageState.Done;
                    Console.WriteLine(Summary(transport, o.Geometry, control.Snapshot(), path));
                    if (o.Controlled && !control.FinalTaken.Wait(TimeSpan.FromSeconds(10)))
                    {
                        Console.Error.WriteLine("sink: the runner did not collect the final stats within 10 s");
                    }

                    break;
                }
            }

            control.State = StageState.Done;
            return 0;
        }
        catch (PipelineException e)
        {
            return Fail(who, control, e.Message);
        }
        catch (L4RtException e) when (e.Status == L4Status.InvalidCapability && transport == Transport.Pool && stage != Stage.Source)
        {
            // The pool is the source's dataspace: it is destroyed, and every mapping of it revoked, when the source's task ends.
            return Fail(who, control, $"the frame pool was revoked (InvalidCapability): the source stage, which created it, is gone");
        }
        catch (L4RtException e)
        {
            return Fail(who, control, $"{e.Status}: {e.Message}");
        }
    }

    /// <summary>The sink's closing line, also what the tests read.</summary>
    public static string Summary(Transport transport, FrameGeometry g, StageStats s, string path) => string.Create(CultureInfo.InvariantCulture,
        $"sink: {transport.ToString().ToLowerInvariant()} {s.Frames} frames {g} in {s.ElapsedNs / 1e9:0.000} s: {s.Fps:0.0} fps, {s.GigabytesPerSecond:0.000} GB/s, latency p50 {s.P50Ns / 1e6:0.000} ms p99 {s.P99Ns / 1e6:0.000} ms max {s.MaxNs / 1e6:0.000} ms -> {path}");

    private static int Fail(string who, StageControl control, string message)
    {
        control.State = StageState.Failed;
        Console.Error.WriteLine($"{who}: {message}; exiting");
        return 1;
    }

    /// <summary>Renders frames into the transport: paced to the frame rate unless unthrottled, until the frame or time limit or a stop.</summary>
    private static void Source(FrameOutput output, MediaOptions o, StageControl control)
    {
        TestPattern pattern = new(o.Geometry);
        long start = Stopwatch.GetTimestamp();
        long limit = o.Frames > 0 ? o.Frames : long.MaxValue;
        long end = o.Seconds > 0 ? start + (long)(o.Seconds * Stopwatch.Frequency) : long.MaxValue;
        for (long i = 0; i < limit && !control.StopRequested; i++)
        {
            if (!o.Unthrottled)
            {
                WaitUntil(start + (i * Stopwatch.Frequency / o.Geometry.Fps));
            }

            if (Stopwatch.GetTimestamp() >= end)
            {
                break;
            }

            OutputFrame frame = output.Acquire(-1);
            long stamp = Stopwatch.GetTimestamp(); // capture time: when rendering starts
            pattern.Render(i, frame.Pixels);
            output.Publish(frame, new FrameInfo(i, stamp, frame.Slot));
            control.FrameDone(stamp, Stopwatch.GetTimestamp());
        }

        output.Complete();
    }

    /// <summary>Sleeps until the frame is due (no spin: a frame period is milliseconds; the sleep's slack is well under one).</summary>
    private static void WaitUntil(long due)
    {
        long left = due - Stopwatch.GetTimestamp();
        if (left > 0)
        {
            Thread.Sleep(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
        }
    }

    private static void Filter(FrameInput input, FrameOutput output, GrayBlur blur, StageControl control)
    {
        while (input.TryRead(out FrameInfo info, out ReadOnlySpan<byte> frame))
        {
            OutputFrame filtered = output.Acquire(info.Slot); // the pool: the same slot, filtered in place
            blur.Apply(frame, filtered.Pixels);
            output.Publish(filtered, info);
            input.Release(info);
            control.FrameDone(info.Stamp, Stopwatch.GetTimestamp());
        }

        output.Complete();
    }

    private static void Sink(FrameInput input, Y4mWriter writer, StageControl control)
    {
        while (input.TryRead(out FrameInfo info, out ReadOnlySpan<byte> frame))
        {
            writer.WriteFrame(frame);
            long now = Stopwatch.GetTimestamp();
            input.Release(info);
            control.RecordLatency(info.Stamp, now);
            if (control.Frames == 0)
            {
                Console.WriteLine("sink: streaming");
            }

            control.FrameDone(info.Stamp, now);
        }
    }
}
