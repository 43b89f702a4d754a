using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Perf;
using L4Rt.Shared;

namespace L4Rt.Soak;

/// <summary>What one soak run does: how long, how many churning processes at once, how often it samples, where it writes.</summary>
internal sealed record SoakOptions(TimeSpan Duration, int Workers, TimeSpan SampleEvery, string? OutDir);

/// <summary>One sample of the broker: its memory, descriptors, mapped regions and objects, and the steady client's call p99.</summary>
internal sealed record SoakSample(double Seconds, double RssMiB, int Fds, int Regions, int Tasks, int Names, int Capabilities, double CallP99Us, int Calls);

/// <summary>
/// The soak driver: the real broker, a long-lived echo process, a steady client calling it every few milliseconds, and
/// <see cref="SoakOptions.Workers"/> churning processes (<see cref="ChurnWorker"/>) replaced as they end — a third of them
/// SIGKILLed at a random moment. After the churn, everything the workers held must be gone from the broker, and its
/// descriptors, regions and RSS must be where they were after warm-up, within noise.
/// </summary>
internal static class SoakRun
{
    // Growth beyond these, from the warmed-up baseline to the settled end, fails the run.
    private const int FdSlack = 8;
    private const int RegionSlack = 16;
    private const double RssSlackMiB = 24;

    internal static async Task<int> RunAsync(SoakOptions options)
    {
        Console.WriteLine($"L4Rt soak: {options.Duration.TotalSeconds:0} s, {options.Workers} churning processes, a sample every {options.SampleEvery.TotalSeconds:0.#} s");
        using BrokerHost broker = new(RepoRoot.Find());
        string socket = broker.SocketPath;
        using ManagedProcess echo = Start("echo", socket, "0");
        echo.WaitForLine("READY", TimeSpan.FromSeconds(30));
        await using L4Task probe = await broker.ConnectAsync("soak-probe");
        Gate gate = await probe.Names.QueryAsync<Gate>("soak/echo", TimeSpan.FromSeconds(10));

        using CancellationTokenSource stop = new();
        List<double> rtts = [];
        long callFailures = 0;
        Thread caller = new(() =>
        {
            using L4Thread me = new();
            for (ulong i = 0; !stop.IsCancellationRequested; i++)
            {
                me.Utcb.Mr[0] = i;
                long start = Stopwatch.GetTimestamp();
                IpcResult r = me.Call(gate, new MsgTag(1, 1), L4Timeout.FromSeconds(5));
                double us = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                if (!r.IsOk || me.Utcb.Mr[0] != i + 1)
                {
                    Interlocked.Increment(ref callFailures);
                }

                lock (rtts)
                {
                    rtts.Add(us);
                }

                Thread.Sleep(5);
            }
        }) { IsBackground = true, Name = "soak caller" };
        caller.Start();

        Churn churn = new(socket, options.Workers);
        List<SoakSample> samples = [];
        Stopwatch clock = Stopwatch.StartNew();
        TimeSpan warmUp = TimeSpan.FromSeconds(Math.Min(10, options.Duration.TotalSeconds / 5));
        async Task<SoakSample> Sample()
        {
            SoakSample sample = await SampleAsync(broker.Pid, probe, clock.Elapsed, TakeRtts(rtts));
            samples.Add(sample);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{sample.Seconds,5:0} s] broker RSS {sample.RssMiB,6:0.0} MiB, fds {sample.Fds,4}, regions {sample.Regions,5}, tasks {sample.Tasks,3}, names {sample.Names,4}, caps {sample.Capabilities,5}; call p99 {sample.CallP99Us,7:0} µs ({sample.Calls} calls); workers {churn.Started} started, {churn.Killed} killed, {churn.Clean} clean"));
            return sample;
        }

        // Warm-up churn, then everything stops and settles: the baseline is the quiet broker after it (its pools and heap grown).
        SoakSample baseline, end;
        int mainStart = 0; // the first sample of the main churn (after the warm-up settled)
        try
        {
            await churn.RunAsync(clock.Elapsed + warmUp, options.SampleEvery, Sample, () => clock.Elapsed);
            baseline = await SettleAsync(churn, broker.Pid, probe, clock);
            Console.WriteLine($"baseline (settled after {warmUp.TotalSeconds:0} s of warm-up): fds {baseline.Fds}, regions {baseline.Regions}, RSS {baseline.RssMiB:0.0} MiB");
            mainStart = samples.Count;
            await churn.RunAsync(options.Duration, options.SampleEvery, Sample, () => clock.Elapsed);
        }
        finally
        {
            churn.Dispose(); // SIGKILL what still runs
            await stop.CancelAsync();
            caller.Join(TimeSpan.FromSeconds(10));
        }

        end = await SettleAsync(churn, broker.Pid, probe, clock);
        List<SoakSample> main = [.. samples.Skip(mainStart).Where(x => x.Calls > 0)];
        baseline = baseline with { CallP99Us = MedianP99(main.Take(Math.Max(1, main.Count / 3))) };
        (int started, int killed, int clean, List<string> failures) = (churn.Started, churn.Killed, churn.Clean, churn.Failures);

        List<string> problems = [.. failures];
        if (Interlocked.Read(ref callFailures) > 0)
        {
            problems.Add($"{callFailures} calls of the steady client failed or came back wrong");
        }

        if (end.Tasks != 2)
        {
            problems.Add($"{end.Tasks} tasks left at the end, not 2 (the probe and the echo server)");
        }

        if (end.Fds > baseline.Fds + FdSlack)
        {
            problems.Add($"broker descriptors grew from {baseline.Fds} to {end.Fds}");
        }

        if (end.Regions > baseline.Regions + RegionSlack)
        {
            problems.Add($"broker mapped regions grew from {baseline.Regions} to {end.Regions}");
        }

        if (end.RssMiB > baseline.RssMiB + Math.Max(RssSlackMiB, baseline.RssMiB * 0.25))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"broker RSS grew from {baseline.RssMiB:0.0} to {end.RssMiB:0.0} MiB"));
        }

        if (echo.HasExited || broker.HasExited)
        {
            problems.Add("the broker or the echo server died");
        }

        string report = Report(options, samples, baseline, end, started, killed, clean, problems);
        Console.WriteLine();
        Console.WriteLine(report);
        if (options.OutDir is { } dir)
        {
            Directory.CreateDirectory(dir);
            await File.WriteAllTextAsync(Path.Combine(dir, "soak.md"), report);
            await File.WriteAllTextAsync(Path.Combine(dir, "soak.json"), JsonSerializer.Serialize(new
            {
                seconds = options.Duration.TotalSeconds, workers = options.Workers, started, killed, clean, baseline, end, samples, problems,
            }, new JsonSerializerOptions { WriteIndented = true }));
        }

        return problems.Count == 0 ? 0 : 1;
    }

    /// <summary>Waits until the broker has let go of every worker (2 tasks: the probe and the echo server), then samples it.</summary>
    private static async Task<SoakSample> SettleAsync(Churn churn, int pid, L4Task probe, Stopwatch clock)
    {
        churn.StopAll();
        SoakSample settled = await SampleAsync(pid, probe, clock.Elapsed, []);
        for (int i = 0; i < 100 && settled.Tasks > 2; i++)
        {
            await Task.Delay(100);
            settled = await SampleAsync(pid, probe, clock.Elapsed, []);
        }

        await Task.Delay(500); // the last closes reach the broker's loop
        return await SampleAsync(pid, probe, clock.Elapsed, []);
    }

    private static async Task<SoakSample> SampleAsync(int pid, L4Task probe, TimeSpan at, List<double> rtts)
    {
        double rssKiB = File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).FirstOrDefault();
        int fds = Directory.GetFiles($"/proc/{pid}/fd").Length;
        int regions = File.ReadLines($"/proc/{pid}/maps").Count();
        using JsonDocument status = JsonDocument.Parse(await probe.GetBrokerStatusJsonAsync());
        JsonElement tasks = status.RootElement.GetProperty("tasks");
        int caps = tasks.EnumerateArray().Sum(t => t.GetProperty("capabilities").GetInt32());
        rtts.Sort();
        double p99 = rtts.Count == 0 ? 0 : rtts[Math.Min(rtts.Count - 1, (int)(rtts.Count * 0.99))];
        return new SoakSample(at.TotalSeconds, rssKiB / 1024, fds, regions, tasks.GetArrayLength(), status.RootElement.GetProperty("names").GetArrayLength(), caps, p99, rtts.Count);
    }

    /// <summary>The median of the samples' call p99 (0 for none).</summary>
    private static double MedianP99(IEnumerable<SoakSample> samples)
    {
        double[] p99 = [.. samples.Select(s => s.CallP99Us).Order()];
        return p99.Length == 0 ? 0 : p99[p99.Length / 2];
    }

    private static List<double> TakeRtts(List<double> rtts)
    {
        lock (rtts)
        {
            List<double> taken = [.. rtts];
            rtts.Clear();
            return taken;
        }
    }

    private static string Report(SoakOptions options, List<SoakSample> samples, SoakSample baseline, SoakSample end, int started, int killed, int clean, List<string> problems)
    {
        double lateP99 = MedianP99(samples.Skip(samples.Count * 2 / 3).Where(s => s.Calls > 0));
        StringBuilder md = new();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Soak: {options.Duration.TotalSeconds:0} s, {options.Workers} churning processes ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{started} worker processes (each two tasks cycling: thread, gate, name, 50 calls, a channel of 100 records, a 64 KiB dataspace): {killed} SIGKILLed mid-work, {clean} ended cleanly; {samples.Count} samples.");
        md.AppendLine();
        md.AppendLine("| broker | settled after warm-up | settled at the end | drift | limit |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| RSS | {baseline.RssMiB:0.0} MiB | {end.RssMiB:0.0} MiB | {end.RssMiB - baseline.RssMiB:+0.0;-0.0;0} MiB | {Math.Max(RssSlackMiB, baseline.RssMiB * 0.25):0} MiB |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| descriptors | {baseline.Fds} | {end.Fds} | {end.Fds - baseline.Fds:+0;-0;0} | {FdSlack} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| mapped regions | {baseline.Regions} | {end.Regions} | {end.Regions - baseline.Regions:+0;-0;0} | {RegionSlack} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| tasks / names / capabilities | — | {end.Tasks} / {end.Names} / {end.Capabilities} | | 2 tasks |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| steady client's call p99 (every 5 ms) | {baseline.CallP99Us:0} µs (first third) | {lateP99:0} µs (last third) | {(baseline.CallP99Us > 0 ? lateP99 / baseline.CallP99Us : 0):0.00}× | reported |");
        md.AppendLine();
        md.AppendLine(problems.Count == 0 ? "Result: **held** (no growth beyond noise, nothing left behind, every call answered)." : "Result: **failed**:\n" + string.Join('\n', problems.Select(p => "- " + p)));
        return md.ToString();
    }

    internal static ManagedProcess Start(string mode, string socket, string seed)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        ProcessStartInfo info = new(self) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(SoakRun).Assembly.Location);
        }

        foreach (string arg in new[] { mode, socket, seed })
        {
            info.ArgumentList.Add(arg);
        }

        return ManagedProcess.Start(info);
    }
}
