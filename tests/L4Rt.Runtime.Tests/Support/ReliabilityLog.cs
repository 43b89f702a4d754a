using System.Text.Json;

namespace L4Rt.Tests.Support;

/// <summary>
/// Figures of the fault and hostile-input suite for <c>docs/reliability.md</c>: with <c>$L4RT_RELIABILITY_OUT</c> set to a
/// directory, each test that tries something many times adds a line (what, how many times, what held) to
/// <c>hostile.jsonl</c> there; <c>.ci/suite</c> turns those lines, the crash matrix, the fuzzing and the soak into the
/// document. Without the variable nothing is written.
/// </summary>
public static class ReliabilityLog
{
    private static readonly Lock s_lock = new();

    /// <summary>Records that <paramref name="what"/> was tried <paramref name="tried"/> times and <paramref name="held"/> (what was checked and held).</summary>
    public static void Record(string area, string what, long tried, string held)
    {
        string? dir = Environment.GetEnvironmentVariable("L4RT_RELIABILITY_OUT");
        if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir))
        {
            return;
        }

        string line = JsonSerializer.Serialize(new { area, what, tried, held, utc = DateTime.UtcNow });
        lock (s_lock)
        {
            File.AppendAllText(Path.Combine(dir, "hostile.jsonl"), line + "\n");
        }
    }
}
