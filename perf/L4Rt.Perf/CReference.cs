using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using L4Rt.Shared;

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

        ProcessStartInfo info = new("bash") { RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add(script);
        info.Environment["OUT"] = binary;
        int code;
        string errors;
        try
        {
            (code, _, errors) = ManagedProcess.RunToExit(info, TimeSpan.FromMinutes(5));
        }
        catch (TimeoutException e)
        {
            (code, errors) = (-1, e.Message);
        }

        if (code != 0 || !File.Exists(binary))
        {
            log.WriteLine($"notice: C baselines skipped (no C compiler, or the build failed): {errors.Trim()}");
            return null;
        }

        return new CReference(binary);
    }

    /// <summary>Runs one mode and returns its JSON result.</summary>
    internal JsonElement Run(string mode, params (string Name, long Value)[] options)
    {
        ProcessStartInfo info = new(_binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(mode);
        foreach ((string name, long value) in options)
        {
            info.ArgumentList.Add("--" + name);
            info.ArgumentList.Add(value.ToString(CultureInfo.InvariantCulture));
        }

        (int code, string output, string errors) = ManagedProcess.RunToExit(info, TimeSpan.FromSeconds(120));
        if (code != 0)
        {
            throw new InvalidOperationException($"l4rt_cref {mode} failed ({code}): {errors}");
        }

        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
