using System.Diagnostics;
using L4Rt.Shared;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Samples;

/// <summary>The Echo sample as a user runs it: broker, hosted server and client as three processes.</summary>
[Collection(ProcessCollection.Name)]
public class EchoSampleTests
{
    private static readonly string s_echo = ToolProcess.OutputOf(Path.Combine("src", "Samples", "Echo"));

    [Fact]
    public async Task Echo_HostedServerAnswersTheClient_PercentilesPrinted_SigtermStopsItCleanly()
    {
        using BrokerProcess broker = new();
        using ManagedProcess server = ManagedProcess.Start("dotnet", [Path.Combine(s_echo, "L4Rt.Samples.Echo.dll"), "server", $"--L4Rt:SocketPath={broker.SocketPath}"]);
        server.WaitForLine(l => l.Contains("serving 'echo/increment'", StringComparison.Ordinal), "that it serves 'echo/increment'", TimeSpan.FromSeconds(30));

        ProcessStartInfo clientInfo = new("dotnet", [Path.Combine(s_echo, "L4Rt.Samples.Echo.dll"), "client", "--socket", broker.SocketPath, "--calls", "3000"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        (int code, string stdout, string stderr) = ManagedProcess.RunToExit(clientInfo, TimeSpan.FromSeconds(60));
        Assert.True(code == 0, stdout + stderr);
        string[] lines = stdout.Trim().Split('\n');
        Assert.Matches(@"^3000 calls of 8 words, every reply checked: p50 [0-9.]+ µs, p90 [0-9.]+ µs, p99 [0-9.]+ µs, max [0-9.]+ µs, [0-9]+ calls/s$", lines[0]);
        Assert.Matches(@"^capability item: the server received this gate with rights Send, Map \(this task holds Send, Map\)$", lines[1]);

        server.Signal("TERM");
        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(20)), $"SIGTERM did not stop the server:\n{server.Output}");
        Assert.Equal(0, server.ExitCode);
        await using L4Task probe = await broker.ConnectAsync("probe");
        Assert.Equal(L4Status.NameNotFound, (await Assert.ThrowsAsync<L4RtException>(() => probe.Names.QueryAsync("echo/increment", TimeSpan.Zero))).Status);
    }
}
