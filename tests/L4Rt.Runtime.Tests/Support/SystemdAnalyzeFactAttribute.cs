namespace L4Rt.Tests.Support;

/// <summary>A fact that needs <c>systemd-analyze</c> on the PATH; skipped (with the reason) where it is not installed.</summary>
public sealed class SystemdAnalyzeFactAttribute : FactAttribute
{
    public SystemdAnalyzeFactAttribute()
    {
        if (Tool is null)
        {
            Skip = "systemd-analyze is not installed";
        }
    }

    /// <summary>The full path of systemd-analyze, or null.</summary>
    public static string? Tool { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, "systemd-analyze"))
        .FirstOrDefault(File.Exists);
}
