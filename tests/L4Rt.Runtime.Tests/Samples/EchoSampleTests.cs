using System.Collections.Concurrent;
using System.Diagnostics;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Samples;

/// <summary>The Echo sample as a user runs it: broker, hosted server and client as three processes.</summary>
[Collection(ProcessCollection.Name)]
public class EchoSampleTests
{
    private static readonly string s_echo = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)
        .Replace(Path.Combine("tests", "L4Rt.Runtime.Tests"), Path.Combine("src", "Samples", "Echo"), StringComparison.Ordinal);

    [Fact]
    public async Task Echo_HostedServerAnswersTheClient_PercentilesPrinted_SigtermStopsItCleanly()
    {
        using BrokerProcess broker = new();
        ProcessStartInfo serverInfo = new("dotnet", [Path.Combine(s_echo, "L4Rt.Samples.Echo.dll"), "server", $"--L4Rt:SocketPath={broker.SocketPath}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process server = new() { StartInfo = serverInfo };
        BlockingCollection<string> lines = [];
        server.OutputDataReceived += (_, e) => { if (e.Data is { } line) { lines.Add(line); } };
        server.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { lines.Add("stderr: " + line); } };
        server.Start();
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            List<string> seen = [];
            Stopwatch clock = Stopwatch.StartNew();
            while (!seen.Any(l => l.Contains("serving 'echo/increment'", StringComparison.Ordinal)))
            {
                Assert.True(lines.TryTake(out string? line, TimeSpan.FromSeconds(30) - clock.Elapsed), $"the server did not start serving:\n{string.Join('\n', seen)}");
                seen.Add(line!);
            }

            ProcessStartInfo clientInfo = new("dotnet", [Path.Combine(s_echo, "L4Rt.Samples.Echo.dll"), "client", "--socket", broker.SocketPath, "--calls", "3000"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            (int code, string stdout, string stderr) = ToolProcess.RunToExit(clientInfo, 60_000) ?? throw new TimeoutException("the Echo client did not finish");
            Assert.True(code == 0, stdout + stderr);
            Assert.Matches(@"^3000 calls of 8 words, every reply checked: p50 [0-9.]+ µs, p90 [0-9.]+ µs, p99 [0-9.]+ µs, max [0-9.]+ µs, [0-9]+ calls/s$", stdout.Trim());

            using (Process kill = Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            Assert.True(server.WaitForExit(20_000), "SIGTERM did not stop the server");
            Assert.Equal(0, server.ExitCode);
            await using L4Task probe = await broker.ConnectAsync("probe");
            Assert.Equal(L4Status.NameNotFound, (await Assert.ThrowsAsync<L4RtException>(() => probe.Names.QueryAsync("echo/increment", TimeSpan.Zero))).Status);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                server.WaitForExit(10_000);
            }
        }
    }
}
