using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace L4Rt.Perf.Reporting;

/// <summary>Writes results/&lt;timestamp&gt;.json, results/latest.json and results/latest.md.</summary>
internal static class Report
{
    internal static void Write(string resultsDir, IReadOnlyList<Metric> metrics, string mode, TextWriter log)
    {
        Directory.CreateDirectory(resultsDir);
        DateTime now = DateTime.UtcNow;
        var document = new
        {
            timestamp = now.ToString("O", CultureInfo.InvariantCulture),
            mode,
            machine = MachineDescription(),
            metrics = metrics.Select(m => new
            {
                name = m.Name,
                unit = m.Unit,
                median = Math.Round(m.Median, 3),
                p99 = Math.Round(m.P99, 3),
                rounds = m.Rounds.Select(r => Math.Round(r, 3)).ToArray(),
                baseline = m.Baseline,
                ratio = m.Ratio is null ? (double?)null : Math.Round(m.Ratio.Value, 3),
                round_ratios = m.RoundRatios?.Select(r => Math.Round(r, 3)).ToArray(),
                goal = m.Goal,
                meets_goal = m.MeetsGoal,
                description = m.Description,
            }),
        };
        string json = JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true });
        string stamped = Path.Combine(resultsDir, now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + ".json");
        File.WriteAllText(stamped, json);
        File.WriteAllText(Path.Combine(resultsDir, "latest.json"), json);
        File.WriteAllText(Path.Combine(resultsDir, "latest.md"), Markdown(metrics, mode, now));
        log.WriteLine($"wrote {stamped}, latest.json and latest.md");
    }

    internal static string Markdown(IReadOnlyList<Metric> metrics, string mode, DateTime when)
    {
        StringBuilder md = new();
        md.AppendLine(CultureInfo.InvariantCulture, $"# L4Rt benchmark results ({mode}, {when:yyyy-MM-dd HH:mm} UTC)");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {MachineDescription()}");
        md.AppendLine();
        md.AppendLine("| metric | unit | median | p99 | baseline | ratio (median of per-round ratios) | goal | met |");
        md.AppendLine("|---|---|---:|---:|---|---:|---:|:-:|");
        foreach (Metric m in metrics)
        {
            string ratio = m.Ratio is null ? "" : $"{m.Ratio:0.00}×";
            string goal = m.Goal is null ? "" : (m.LowerIsBetter ? "≤ " : "≥ ") + (m.Ratio is null ? $"{m.Goal:0.##} {m.Unit}" : $"{m.Goal:0.##}×");
            string met = m.MeetsGoal is null ? "" : m.MeetsGoal.Value ? "yes" : "**no**";
            md.AppendLine(CultureInfo.InvariantCulture, $"| `{m.Name}` | {m.Unit} | {m.Median:0.###} | {m.P99:0.###} | {m.Baseline} | {ratio} | {goal} | {met} |");
        }

        md.AppendLine();
        foreach (Metric m in metrics)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- `{m.Name}`: {m.Description}");
        }

        return md.ToString();
    }

    internal static string MachineDescription()
    {
        string cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }

        return $"{Environment.ProcessorCount} cores, {cpu}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }
}
