using System.Diagnostics;

namespace L4Rt.Tests.Support;

/// <summary>Runs the real <c>l4rt</c> (the built src/Cli) as a child process; kills it if it hangs.</summary>
internal static class CliProcess
{
    internal static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        string cli = typeof(CliProcess).Assembly.Location
            .Replace(Path.Combine("tests", "L4Rt.Runtime.Tests"), Path.Combine("src", "Cli"), StringComparison.Ordinal)
            .Replace("L4Rt.Runtime.Tests.dll", "l4rt.dll", StringComparison.Ordinal);
        ProcessStartInfo info = new("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(cli);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(info)!;
        try
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(30_000))
            {
                throw new TimeoutException("l4rt did not finish");
            }

            return (process.ExitCode, stdout.Result, stderr.Result);
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
}
