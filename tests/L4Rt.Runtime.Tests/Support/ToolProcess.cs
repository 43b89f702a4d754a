using System.Diagnostics;
using System.Text;

namespace L4Rt.Tests.Support;

/// <summary>
/// Runs a built tool of this repository (<c>l4rt</c> from src/Cli, <c>l4rtd</c> from src/Broker) to its exit as a
/// child process and returns what it printed; kills it (and anything it started) if it does not finish in time.
/// </summary>
internal static class ToolProcess
{
    /// <summary>The operator CLI, <c>l4rt</c>.</summary>
    internal static (int Code, string Stdout, string Stderr) Cli(params string[] args) => Run(Path.Combine("src", "Cli"), "l4rt.dll", 30_000, args);

    /// <summary>The broker, <c>l4rtd</c>, expected to exit by itself within <paramref name="timeoutMs"/>.</summary>
    internal static (int Code, string Stdout, string Stderr) Broker(int timeoutMs, params string[] args) => Run(Path.Combine("src", "Broker"), "l4rtd.dll", timeoutMs, args);

    /// <summary>The build output of the broker (src/Broker/bin/&lt;Configuration&gt;/&lt;framework&gt;), what publishing copies.</summary>
    internal static string BrokerOutput => OutputOf(Path.Combine("src", "Broker"));

    private static string OutputOf(string project) =>
        AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar).Replace(Path.Combine("tests", "L4Rt.Runtime.Tests"), project, StringComparison.Ordinal);

    private static (int Code, string Stdout, string Stderr) Run(string project, string dll, int timeoutMs, string[] args)
    {
        string path = Path.Combine(OutputOf(project), dll);
        ProcessStartInfo info = new("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(path);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return RunToExit(info, timeoutMs) ?? throw new TimeoutException($"{dll} did not exit within {timeoutMs} ms");
    }

    /// <summary>
    /// Runs <paramref name="info"/> (stdout and stderr redirected) to its exit and returns what it printed, line by
    /// line; null if it did not exit within <paramref name="timeoutMs"/> (it and its children are then killed). The
    /// wait is on the process and, bounded, on the pipes' end: a helper that outlives the process may hold the pipes
    /// open (a `dotnet build` helper once hung a whole test run that read them to their end).
    /// </summary>
    internal static (int Code, string Stdout, string Stderr)? RunToExit(ProcessStartInfo info, int timeoutMs)
    {
        StringBuilder stdout = new(), stderr = new();
        CountdownEvent ended = new(2); // not disposed: a lingering helper may close the pipes after we returned
        using Process process = new() { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(stdout, ended, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, ended, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            if (!process.WaitForExit(timeoutMs))
            {
                return null;
            }

            ended.Wait(TimeSpan.FromSeconds(10)); // both pipes at their end, or a lingering helper holds them
            lock (stdout)
            {
                lock (stderr)
                {
                    return (process.ExitCode, stdout.ToString(), stderr.ToString());
                }
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(true);
                process.WaitForExit(5000);
            }
        }
    }

    private static void Append(StringBuilder output, CountdownEvent ended, string? line)
    {
        if (line is null)
        {
            ended.Signal(); // this pipe's end
            return;
        }

        lock (output)
        {
            output.Append(line).Append('\n');
        }
    }
}
