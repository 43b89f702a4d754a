using System.Diagnostics;
using L4Rt.Shared;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Samples;

/// <summary>The Pager sample as a user runs it: broker, pager and reader as three processes.</summary>
[Collection(ProcessCollection.Name)]
public class PagerSampleTests
{
    private static readonly string s_pager = ToolProcess.OutputOf(Path.Combine("src", "Samples", "Pager"));

    [UserFaultFdFact]
    public void Pager_ReaderReadsLazilyComputedPages_FaultsCountedOnce_SigtermStopsThePager()
    {
        using BrokerProcess broker = new();
        using ManagedProcess pager = ManagedProcess.Start("dotnet", [Path.Combine(s_pager, "L4Rt.Samples.Pager.dll"), "pager", "--socket", broker.SocketPath, "--size-mib", "64"]);
        pager.WaitForLine(l => l.StartsWith("serving 'pager/vfile'", StringComparison.Ordinal), "that it serves", TimeSpan.FromSeconds(30));

        Assert.Matches(@"^read 2000 pages spread over a 64 MiB virtual file: 2000 as computed, 0 wrong; mapping Ok\nfaults served by the pager: 2000; per fault \(first touch → page there\): median [0-9.]+ µs, p99 [0-9.]+ µs$", Reader(broker));
        Assert.Matches(@"\nfaults served by the pager: 0;", Reader(broker)); // the pages are in the dataspace now

        pager.Signal("TERM");
        Assert.True(pager.WaitForExit(TimeSpan.FromSeconds(20)), $"SIGTERM did not stop the pager:\n{pager.Output}");
        Assert.Equal(0, pager.ExitCode);
        Assert.Contains("served 2000 faults", pager.Output, StringComparison.Ordinal);
    }

    private static string Reader(BrokerProcess broker)
    {
        ProcessStartInfo info = new("dotnet", [Path.Combine(s_pager, "L4Rt.Samples.Pager.dll"), "reader", "--socket", broker.SocketPath, "--pages", "2000"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        (int code, string stdout, string stderr) = ManagedProcess.RunToExit(info, TimeSpan.FromSeconds(60));
        Assert.True(code == 0, stdout + stderr);
        return stdout.Trim();
    }
}
