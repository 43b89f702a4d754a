using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace L4Rt.Perf;

/// <summary>
/// The C reference programs under perf/native, compiled with <c>cc -O2</c> at the start of a run and
/// run in the same invocation as the L4Rt scenarios. Absent a C compiler they are skipped with a notice.
/// </summary>
internal sealed class CReference
{
    private readonly string _binary;

    private CReference(string binary) => _binary = binary;

    /// <summary>Builds the reference; null (with the reason printed) when it cannot be built here.</summary>
    internal static CReference? Build(string repoRoot, TextWriter log)
    {
        string script = Path.Combine(repoRoot, "perf", "native", "build.sh");
        string binary = Path.Combine(repoRoot, "perf", "native", "bin", "l4rt_cref");
        if (!File.Exists(script))
        {
            log.WriteLine($"notice: {script} is missing; C baselines skipped");
            return null;
        }

        ProcessStartInfo info = new("bash") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add(script);
        info.Environment["OUT"] = binary;
        using Process process = Process.Start(info)!;
        string errors = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || !File.Exists(binary))
        {
            log.WriteLine($"notice: C baselines skipped (no C compiler, or the build failed): {errors.Trim()}");
            return null;
        }

        return new CReference(binary);
    }

    /// <summary>Runs one mode and returns its JSON result.</summary>
    internal JsonElement Run(string mode, params (string Name, long Value)[] options)
    {
        ProcessStartInfo info = new(_binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(mode);
        foreach ((string name, long value) in options)
        {
            info.ArgumentList.Add("--" + name);
            info.ArgumentList.Add(value.ToString(CultureInfo.InvariantCulture));
        }

        using Process process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"l4rt_cref {mode} did not finish");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"l4rt_cref {mode} failed ({process.ExitCode}): {errors}");
        }

        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
