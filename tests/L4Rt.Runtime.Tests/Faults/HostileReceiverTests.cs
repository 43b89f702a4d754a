using System.Diagnostics;
using System.Globalization;
using L4Rt.Ipc;
using L4Rt.Tests.Support;
using Xunit.Abstractions;

namespace L4Rt.Tests.Faults;

/// <summary>
/// Shared-memory hostility from the other side (issue 13, part 3): the receiving process of a link writes adversarial
/// values into it — random and valid-looking states with the caller's own seq, replies flipped between check and use,
/// bad tags, spurious wake-ups — while an honest caller calls with a timeout. Every call must end by its deadline with
/// a status (never hang, never throw, never deliver a malformed reply), and the caller must not burn the CPU once it
/// stops calling while the scribbling goes on.
/// </summary>
[Collection(ProcessCollection.Name)]
public class HostileReceiverTests(ITestOutputHelper output)
{
    private static readonly L4Status[] s_allowed =
        [L4Status.Ok, L4Status.ProtocolViolation, L4Status.SendTimeout, L4Status.ReceiveTimeout, L4Status.ReplyDropped, L4Status.DestinationDeleted,
         L4Status.InvalidCapability, L4Status.NoRights, L4Status.QuotaExceeded, L4Status.NoReceiveBuffer, L4Status.InvalidArgument]; // the last: an item refusal, which a receiver may claim

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void HostileReceiver_EveryCallEndsByItsDeadlineWithAStatus_NoMalformedReply_NoBusyCallerAfter(int seed)
    {
        using TempDir dir = new();
        using ChildProcess hostile = ChildProcess.Start("hostile-receiver", dir.Socket(), "6000", seed.ToString(CultureInfo.InvariantCulture));
        hostile.WaitForLine("LISTENING");
        using SendLink link = DirectLink.Connect(dir.Socket(), TimeSpan.FromSeconds(30));
        using L4Thread me = new();
        Dictionary<L4Status, int> seen = [];
        double worstMs = 0;
        Stopwatch run = Stopwatch.StartNew();
        while (run.Elapsed < TimeSpan.FromSeconds(3))
        {
            me.Utcb.Mr[0] = 1;
            long start = Stopwatch.GetTimestamp();
            IpcResult r = me.Call(link, new MsgTag(1, 1), L4Timeout.FromMilliseconds(50));
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            worstMs = Math.Max(worstMs, ms);
            Assert.Contains(r.Status, s_allowed);
            if (r.IsOk)
            {
                Assert.InRange(r.Tag.Words, 0, MsgTag.MaxWords); // decoded and bounded: a reply read from hostile memory
                Assert.Equal(0, r.Tag.Items);
            }

            seen[r.Status] = seen.GetValueOrDefault(r.Status) + 1;
        }

        // Not calling any more while the other side still scribbles: the idle caller uses (almost) no CPU.
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        Thread.Sleep(1000);
        double idleCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds;

        output.WriteLine($"{seen.Values.Sum()} calls: {string.Join(", ", seen.Select(p => $"{p.Key} {p.Value}"))}; slowest {worstMs:0.0} ms; CPU while idle {idleCpu:0} ms in 1 s");
        Assert.True(worstMs < 50 + 1500, $"a call took {worstMs:0} ms with a 50 ms timeout");
        Assert.True(idleCpu < 300, $"the idle caller used {idleCpu:0} ms of CPU in 1 s");
        Assert.True(seen.Keys.Any(k => k != L4Status.SendTimeout), "the hostile side never got past the send phase: the test tested nothing");
        Assert.DoesNotContain("DONE", hostile.Output, StringComparison.Ordinal); // it was still at work throughout
        ReliabilityLog.Record("shared memory", $"honest calls (50 ms timeout) against a receiver scribbling its link: states, flipped replies, tags, wake-ups (seed {seed}); {string.Join(", ", seen.Select(p => $"{p.Key} {p.Value}"))}",
            seen.Values.Sum(), string.Create(CultureInfo.InvariantCulture, $"every call ended with a status, slowest {worstMs:0} ms; no malformed reply; idle caller {idleCpu:0} ms CPU in 1 s"));
    }
}
