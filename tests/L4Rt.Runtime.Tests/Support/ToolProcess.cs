using System.Diagnostics;
using L4Rt.Shared;

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

    /// <summary>The build output of another project of this repository, e.g. <c>src/Samples/Echo</c>.</summary>
    internal static string OutputOf(string project) =>
        AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar).Replace(Path.Combine("tests", "L4Rt.Runtime.Tests"), project, StringComparison.Ordinal);

    private static (int Code, string Stdout, string Stderr) Run(string project, string dll, int timeoutMs, string[] args)
    {
        ProcessStartInfo info = new("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(OutputOf(project), dll));
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return ManagedProcess.RunToExit(info, TimeSpan.FromMilliseconds(timeoutMs));
    }
}
