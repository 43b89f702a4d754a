using System.Diagnostics;
using L4Rt.Shared;

namespace L4Rt.Tests.Support;

/// <summary>
/// A real child process running the L4Rt.TestChild helper. Its stdout lines are collected for assertions;
/// disposing kills it (and anything it started) so a failing test leaves nothing behind.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly ManagedProcess _process;

    private ChildProcess(ManagedProcess process) => _process = process;

    public int Pid => _process.Pid;

    public bool HasExited => _process.HasExited;

    public static ChildProcess Start(params string[] args) => StartWith(null, args);

    /// <summary>As <see cref="Start"/>, with extra environment variables for the child.</summary>
    public static ChildProcess StartWith(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        ProcessStartInfo info = new("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (KeyValuePair<string, string> variable in environment ?? new Dictionary<string, string>())
        {
            info.Environment[variable.Key] = variable.Value;
        }

        info.ArgumentList.Add(TestChildPath);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_TieredPGO"] = "0"; // quicker, steadier start for short-lived helpers
        return new ChildProcess(ManagedProcess.Start(info));
    }

    /// <summary>Waits for the next line starting with <paramref name="prefix"/>; fails the test on timeout, exit or an ERROR line.</summary>
    public string WaitForLine(string prefix, int timeoutMs = 30_000)
    {
        string line = _process.WaitForLine(
            l => l.StartsWith("ERROR", StringComparison.Ordinal) || l.StartsWith(prefix, StringComparison.Ordinal),
            $"a line starting with '{prefix}'",
            TimeSpan.FromMilliseconds(timeoutMs));
        return line.StartsWith("ERROR", StringComparison.Ordinal)
            ? throw new InvalidOperationException($"child {Pid} failed: {line}\n{Output}")
            : line;
    }

    /// <summary>Every line it printed so far, stderr lines prefixed <c>stderr: </c>.</summary>
    public string Output => _process.Output;

    public bool WaitForExit(int timeoutMs) => _process.WaitForExit(TimeSpan.FromMilliseconds(timeoutMs));

    public int ExitCode => _process.ExitCode;

    /// <summary>SIGKILL, then reap; returns the monotonic timestamp taken right after the kill was sent.</summary>
    public long Kill() => _process.Kill();

    /// <summary>Sends <paramref name="signal"/> (a name such as <c>STOP</c> or <c>CONT</c>) without waiting.</summary>
    public void Signal(string signal) => _process.Signal(signal);

    public void Dispose() => _process.Dispose();

    private static string TestChildPath
    {
        get
        {
            // tests/L4Rt.Runtime.Tests/bin/<Configuration>/net10.0/ → tests/L4Rt.TestChild/bin/<Configuration>/net10.0/
            DirectoryInfo here = new(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string framework = here.Name;
            string configuration = here.Parent!.Name;
            DirectoryInfo testsDir = here.Parent!.Parent!.Parent!.Parent!;
            string path = Path.Combine(testsDir.FullName, "L4Rt.TestChild", "bin", configuration, framework, "L4Rt.TestChild.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build tests/L4Rt.TestChild first (the test project builds it).", path);
        }
    }
}
