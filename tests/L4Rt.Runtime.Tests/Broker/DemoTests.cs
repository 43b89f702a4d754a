using System.Diagnostics;
using L4Rt.Shared;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>The README's first command: the demo runs broker + server + client end to end and leaves nothing behind.</summary>
[Collection(ProcessCollection.Name)]
public class DemoTests
{
    [Fact]
    public async Task Demo_RunsEndToEnd_AndStopsEverythingItStarted()
    {
        string demo = Path.Combine(ToolProcess.OutputOf(Path.Combine("src", "Samples", "Demo")), "L4Rt.Samples.Demo.dll");
        (int code, string stdout, string stderr) = ManagedProcess.RunToExit(
            new ProcessStartInfo("dotnet", [demo, "--seconds", "3"]) { RedirectStandardOutput = true, RedirectStandardError = true }, TimeSpan.FromSeconds(120));
        string text = stdout + stderr;
        Assert.True(code == 0, text);
        foreach (string expected in new[] { "listening on", "call:   sent 1..8 → Ok: sum=36", "ReplyDropped", "ReceiveTimeout", "server counted 1000", "1024 MiB", "→ DestinationDeleted", "live:   second 3, echo calls/s", "summary: echo" })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }

        await AssertNothingLeft();
    }

    [Fact]
    public async Task Demo_Json_PrintsOnlyTheSummary_AndAnInterruptStopsEverything()
    {
        string demo = Path.Combine(ToolProcess.OutputOf(Path.Combine("src", "Samples", "Demo")), "L4Rt.Samples.Demo.dll");
        (int code, string stdout, string stderr) = ManagedProcess.RunToExit(
            new ProcessStartInfo("dotnet", [demo, "--seconds", "2", "--json"]) { RedirectStandardOutput = true, RedirectStandardError = true }, TimeSpan.FromSeconds(120));
        Assert.True(code == 0, stdout + stderr);
        using (System.Text.Json.JsonDocument summary = System.Text.Json.JsonDocument.Parse(stdout))
        {
            Assert.True(summary.RootElement.GetProperty("live").GetProperty("EchoCalls").GetInt64() > 0, stdout);
            Assert.True(summary.RootElement.GetProperty("live").GetProperty("Frames").GetInt64() > 0, stdout);
        }

        // Interrupted in the live part (SIGTERM here: a SIGINT is ignored by processes a non-interactive shell runs in the
        // background, as CI may; the demo treats both alike): exit 130, and everything the demo started is gone.
        using ManagedProcess running = ManagedProcess.Start("dotnet", [demo, "--seconds", "60"]);
        running.WaitForLine(l => l.StartsWith("live:   second", StringComparison.Ordinal), "the live part", TimeSpan.FromSeconds(90));
        running.Signal("TERM");
        Assert.True(running.WaitForExit(TimeSpan.FromSeconds(30)), running.Output);
        Assert.Equal(130, running.ExitCode);
        await AssertNothingLeft();
    }

    private static async Task AssertNothingLeft()
    {
        await Task.Delay(500);
        Assert.DoesNotContain(Process.GetProcesses(), p => SafeCommandLine(p.Id) is var c && (c.Contains("L4Rt.Samples.Demo", StringComparison.Ordinal) || c.Contains("l4rtd.dll --SocketPath /tmp/l4rt-demo-", StringComparison.Ordinal)
            || (c.Contains("L4Rt.Samples.Echo.dll server --L4Rt:SocketPath=/tmp/l4rt-demo-", StringComparison.Ordinal)) || (c.Contains("L4Rt.Samples.MediaStream.dll", StringComparison.Ordinal) && c.Contains("/tmp/l4rt-demo-", StringComparison.Ordinal))));
    }

    private static string SafeCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}
