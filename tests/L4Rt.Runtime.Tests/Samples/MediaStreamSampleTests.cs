using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using L4Rt.Objects;
using L4Rt.Samples.MediaStream;
using L4Rt.Shared;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Samples;

/// <summary>
/// The MediaStream sample as a user runs it (the runner with its private broker, both transports), and its stages
/// started one by one on a test broker to kill the filter mid-stream. Small frames and few of them: each process
/// is a real one, so the time goes into starting them.
/// </summary>
[Collection(ProcessCollection.Name)]
public class MediaStreamSampleTests
{
    private const int Width = 320, Height = 180, Frames = 24;
    private static readonly string s_dll = Path.Combine(ToolProcess.OutputOf(Path.Combine("src", "Samples", "MediaStream")), "L4Rt.Samples.MediaStream.dll");
    private static readonly FrameGeometry s_geometry = new(Width, Height, 60);

    [Fact]
    public void MediaStream_RunBothTransports_Y4mFilesHoldEveryFrameFiltered_NothingLeftBehind()
    {
        using TempDir dir = new();
        string output = Path.Combine(dir.Path, "{transport}.y4m");
        string[] brokerDirsBefore = Directory.GetDirectories(Path.GetTempPath(), "l4rt-mediastream-*");
        (int code, string stdout, string stderr) = ManagedProcess.RunToExit(
            Dotnet("--transport", "both", "--width", $"{Width}", "--height", $"{Height}", "--frames", $"{Frames}", "--unthrottled", "--output", output, "--json"),
            TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"exit code {code}\n{stdout}\n{stderr}");

        JsonElement summary = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal(Width, summary.GetProperty("width").GetInt32());
        JsonElement[] runs = [.. summary.GetProperty("runs").EnumerateArray()];
        Assert.Equal(["fifo", "pool"], runs.Select(r => r.GetProperty("transport").GetString()));
        foreach (JsonElement r in runs)
        {
            Assert.Equal(Frames, r.GetProperty("frames").GetInt64());
            Assert.True(r.GetProperty("fps").GetDouble() > 0 && r.GetProperty("gbps").GetDouble() > 0, r.ToString());
            Assert.True(r.GetProperty("latencyP50Ms").GetDouble() > 0 && r.GetProperty("latencyP99Ms").GetDouble() >= r.GetProperty("latencyP50Ms").GetDouble(), r.ToString());
            CheckVideo(Path.Combine(dir.Path, $"{r.GetProperty("transport").GetString()}.y4m"), Frames);
        }

        Assert.True(stdout.Length > 0 && stderr.Length == 0, $"--json: nothing on stderr, got\n{stderr}");
        AssertNoMediaStreamProcessLeft();
        Assert.Equal(brokerDirsBefore, Directory.GetDirectories(Path.GetTempPath(), "l4rt-mediastream-*")); // the private broker's socket directory is gone
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("pool")]
    public async Task MediaStream_FilterKilledMidStream_SourceAndSinkReportItAndExitNonZero(string transport)
    {
        using BrokerProcess broker = new();
        using TempDir dir = new();
        string run = $"kill-{transport}";
        string[] common = ["--transport", transport, "--socket", broker.SocketPath, "--run", run, "--width", $"{Width}", "--height", $"{Height}", "--frames", "100000", "--output", Path.Combine(dir.Path, "out.y4m")];
        using ManagedProcess sink = ManagedProcess.Start(Dotnet(["sink", .. common]));
        using ManagedProcess filter = ManagedProcess.Start(Dotnet(["filter", .. common]));
        using ManagedProcess source = ManagedProcess.Start(Dotnet(["source", .. common]));
        sink.WaitForLine("sink: streaming", TimeSpan.FromSeconds(30));

        long killedAt = filter.Kill();
        Assert.True(sink.WaitForExit(TimeSpan.FromSeconds(5)), $"the sink did not exit:\n{sink.Output}");
        Assert.True(source.WaitForExit(TimeSpan.FromSeconds(5)), $"the source did not exit:\n{source.Output}");
        double seconds = Stopwatch.GetElapsedTime(killedAt).TotalSeconds;
        Assert.Equal(1, sink.ExitCode);
        Assert.Equal(1, source.ExitCode);
        Assert.Matches(@"^sink: the filter stage died or failed: its frame (index )?channel ended without completion \(DestinationDeleted\) after [0-9]+ frames; exiting", sink.Stderr);
        Assert.Matches(transport == "fifo"
            ? @"^source: the filter stage died or failed: its frame channel has no reader any more \(DestinationDeleted\)"
            : @"^source: (the filter stage died or failed: its frame index channel has no reader any more|the stream broke downstream: the sink stage's free-slot channel ended without completion) \(DestinationDeleted\)", source.Stderr);
        Assert.True(seconds < 5, $"{seconds:0.0} s");

        await using L4Task probe = await broker.ConnectAsync("probe");
        IReadOnlyList<NameInfo> names = await probe.Names.ListAsync();
        Assert.DoesNotContain(names, n => n.Name.StartsWith("mediastream/", StringComparison.Ordinal)); // every stage's names went with its task
    }

    [Fact]
    public void MediaStream_RunnerWhoseFilterIsKilled_ReportsEachStageAndExitsOne_NothingLeftBehind()
    {
        string[] brokerDirsBefore = Directory.GetDirectories(Path.GetTempPath(), "l4rt-mediastream-*");
        using TempDir dir = new();
        string output = Path.Combine(dir.Path, "out.y4m");
        using ManagedProcess runner = ManagedProcess.Start(Dotnet("--transport", "fifo", "--width", $"{Width}", "--height", $"{Height}", "--frames", "0", "--output", output));
        long start = Stopwatch.GetTimestamp();
        int filter = 0;
        while ((filter == 0 || !File.Exists(output) || new FileInfo(output).Length < 10 * s_geometry.FrameSize) && Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(30))
        {
            filter = filter != 0 ? filter : MediaStreamProcesses().FirstOrDefault(p => p.CommandLine.Contains(" filter ", StringComparison.Ordinal) && p.CommandLine.Contains(dir.Path, StringComparison.Ordinal)).Pid;
            Thread.Sleep(50); // polling a file's size: the runner's progress goes to its stderr
        }

        Assert.True(filter != 0 && new FileInfo(output).Length >= 10 * s_geometry.FrameSize, $"the stream did not flow:\n{runner.Output}");
        using (Process victim = Process.GetProcessById(filter))
        {
            victim.Kill();
        }

        Assert.True(runner.WaitForExit(TimeSpan.FromSeconds(20)), $"the runner did not exit:\n{runner.Output}");
        string stderr = runner.Stderr;
        Assert.True(runner.ExitCode == 1, stderr);
        Assert.Contains("fifo: the run failed: ", stderr, StringComparison.Ordinal);
        Assert.Matches(@"  sink \(exit code 1\):\n(    .*\n)*    stderr: sink: the filter stage died or failed", stderr);
        Assert.Matches(@"  source \(exit code 1\):\n(    .*\n)*    stderr: source: the filter stage died or failed", stderr);
        AssertNoMediaStreamProcessLeft();
        Assert.Equal(brokerDirsBefore, Directory.GetDirectories(Path.GetTempPath(), "l4rt-mediastream-*"));
    }

    [Fact]
    public void GrayBlur_InPlaceAndOutOfPlace_EqualsTheNaiveBoxBlur()
    {
        Assert.True(GrayBlur.NinthIsExact());
        Random random = new(11);
        foreach ((int w, int h) in new[] { (4, 4), (6, 10), (34, 6), (66, 8), (320, 180), (1280, 4) })
        {
            FrameGeometry g = new(w, h, 60);
            byte[] input = new byte[g.FrameSize];
            random.NextBytes(input);
            byte[] expected = NaiveFiltered(input, w, h);
            byte[] copied = new byte[g.FrameSize];
            new GrayBlur(g).Apply(input, copied);
            Assert.Equal(expected, copied);
            byte[] inPlace = (byte[])input.Clone();
            new GrayBlur(g).Apply(inPlace, inPlace);
            Assert.Equal(expected, inPlace);
        }
    }

    [Fact]
    public void TestPattern_Render_EqualsThePureFunction()
    {
        TestPattern pattern = new(s_geometry);
        byte[] frame = new byte[s_geometry.FrameSize];
        foreach (long f in new long[] { 0, 1, 63, 64, 1000 })
        {
            pattern.Render(f, frame);
            Assert.Equal(PatternFrame(f), frame);
        }
    }

    [Fact]
    public void LatencyHistogram_Percentiles_WithinThreePercent()
    {
        LatencyHistogram histogram = new();
        for (long v = 1; v <= 100_000; v++)
        {
            histogram.Record(v * 1000);
        }

        Assert.Equal(100_000, histogram.Count);
        Assert.InRange(histogram.Percentile(0.50), 50_000_000 * 0.97, 50_000_000 * 1.03);
        Assert.InRange(histogram.Percentile(0.99), 99_000_000 * 0.97, 99_000_000 * 1.03);
        Assert.Equal(100_000_000, histogram.Percentile(1.0));
    }

    [Fact]
    public void PerFrameWork_RenderFilterRecordLatencyWrite_AllocatesNothing()
    {
        FrameGeometry g = new(64, 36, 60);
        TestPattern pattern = new(g);
        GrayBlur blur = new(g);
        LatencyHistogram histogram = new();
        byte[] record = new byte[FrameRecord.HeaderSize + g.FrameSize];
        using Y4mWriter writer = new("/dev/null", g);
        int bad = 0;
        long allocated = Allocations.OverRounds(i =>
        {
            Span<byte> frame = record.AsSpan(FrameRecord.HeaderSize);
            pattern.Render(i, frame);
            blur.Apply(frame, frame);
            FrameRecord.Write(record, new FrameInfo(i, Stopwatch.GetTimestamp(), 3));
            bad += FrameRecord.TryRead(record, out FrameInfo info) && info.Index == i && info.Slot == 3 ? 0 : 1;
            histogram.Record(Stopwatch.GetTimestamp() - info.Stamp);
            writer.WriteFrame(frame);
        }, warmup: 200, rounds: 2000);
        Assert.Equal(0, bad);
        Assert.Equal(0, allocated);
    }

    private static ProcessStartInfo Dotnet(params string[] args)
    {
        ProcessStartInfo info = new("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(s_dll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    /// <summary>The file is a YUV4MPEG2 stream of <paramref name="frames"/> frames, each the filtered test pattern; ffprobe agrees when installed.</summary>
    private static void CheckVideo(string path, int frames)
    {
        byte[] file = File.ReadAllBytes(path);
        byte[] header = Encoding.ASCII.GetBytes($"YUV4MPEG2 W{Width} H{Height} F60:1 Ip A1:1 C420jpeg\n");
        Assert.Equal(header, file[..header.Length]);
        int frameSize = s_geometry.FrameSize;
        Assert.Equal(header.Length + (frames * (6 + frameSize)), file.Length);
        for (int f = 0; f < frames; f++)
        {
            int at = header.Length + (f * (6 + frameSize));
            Assert.True("FRAME\n"u8.SequenceEqual(file.AsSpan(at, 6)), $"{path}: frame {f} has no FRAME marker");
            if (f <= 1 || f == frames / 2 || f == frames - 1)
            {
                byte[] actual = file.AsSpan(at + 6, frameSize).ToArray();
                Assert.True(NaiveFiltered(PatternFrame(f), Width, Height).AsSpan().SequenceEqual(actual), $"{path}: frame {f} is not the filtered test pattern");
            }
        }

        Ffprobe(path, frames);
    }

    /// <summary>If ffprobe is on PATH: it reads the file as rawvideo yuv420p of the right size and counts every frame.</summary>
    private static void Ffprobe(string path, int frames)
    {
        string? ffprobe = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "ffprobe")).FirstOrDefault(File.Exists);
        if (ffprobe is null)
        {
            return; // not installed here: the header and frame checks above still ran
        }

        ProcessStartInfo info = new(ffprobe, ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height,pix_fmt,nb_read_frames", "-of", "csv=p=0", path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        (int code, string stdout, string stderr) = ManagedProcess.RunToExit(info, TimeSpan.FromSeconds(30));
        Assert.True(code == 0, stderr);
        // C420jpeg is full-range 4:2:0: yuvj420p, or yuv420p (with the range as a separate field) in newer ffmpeg versions.
        Assert.Matches(string.Create(CultureInfo.InvariantCulture, $"^rawvideo,{Width},{Height},yuvj?420p,{frames}$"), stdout.Trim());
    }

    /// <summary>Frame <paramref name="f"/> of the pattern, pixel by pixel from the pure functions.</summary>
    private static byte[] PatternFrame(long f)
    {
        byte[] frame = new byte[s_geometry.FrameSize];
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                frame[(y * Width) + x] = TestPattern.Luma(f, x, y, Width, Height);
            }
        }

        int cw = Width / 2, ch = Height / 2;
        for (int cy = 0; cy < ch; cy++)
        {
            for (int cx = 0; cx < cw; cx++)
            {
                frame[s_geometry.LumaSize + (cy * cw) + cx] = TestPattern.U(f, cx, cy);
                frame[s_geometry.LumaSize + s_geometry.ChromaSize + (cy * cw) + cx] = TestPattern.V(f, cx, cy);
            }
        }

        return frame;
    }

    /// <summary>The filter as the README states it: 3×3 mean of the luma with clamped edges (integer division), chroma 128.</summary>
    private static byte[] NaiveFiltered(byte[] input, int w, int h)
    {
        byte[] output = new byte[input.Length];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int sum = 0;
                for (int dy = -1; dy <= 1; dy++)
                {
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        sum += input[(Math.Clamp(y + dy, 0, h - 1) * w) + Math.Clamp(x + dx, 0, w - 1)];
                    }
                }

                output[(y * w) + x] = (byte)(sum / 9);
            }
        }

        output.AsSpan(w * h).Fill(128);
        return output;
    }

    /// <summary>No stage and no private broker of a MediaStream run is left.</summary>
    private static void AssertNoMediaStreamProcessLeft()
    {
        List<(int Pid, string CommandLine)> left = MediaStreamProcesses();
        Assert.True(left.Count == 0, string.Join('\n', left));
    }

    /// <summary>Processes whose command line names the sample or a private broker directory of its runner.</summary>
    private static List<(int Pid, string CommandLine)> MediaStreamProcesses()
    {
        List<(int Pid, string CommandLine)> found = [];
        foreach (string proc in Directory.GetDirectories("/proc"))
        {
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if (int.TryParse(Path.GetFileName(proc), out int pid) &&
                    (cmdline.Contains("l4rt-mediastream-", StringComparison.Ordinal) || cmdline.Contains("L4Rt.Samples.MediaStream.dll", StringComparison.Ordinal)))
                {
                    found.Add((pid, cmdline));
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }
}
