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
            new ProcessStartInfo("dotnet", [demo]) { RedirectStandardOutput = true, RedirectStandardError = true }, TimeSpan.FromSeconds(120));
        string text = stdout + stderr;
        Assert.True(code == 0, text);
        foreach (string expected in new[] { "listening on", "call:   sent 1..8 → Ok: sum=36", "ReplyDropped", "ReceiveTimeout", "server counted 1000", "1024 MiB", "→ DestinationDeleted" })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }

        await Task.Delay(200);
        Assert.DoesNotContain(Process.GetProcesses(), p => SafeCommandLine(p.Id).Contains("L4Rt.Samples.Demo", StringComparison.Ordinal) || SafeCommandLine(p.Id).Contains("l4rtd.dll --SocketPath /tmp/l4rt-demo-", StringComparison.Ordinal));
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
