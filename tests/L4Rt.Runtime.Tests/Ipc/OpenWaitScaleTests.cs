using System.Globalization;
using L4Rt.Ipc;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Ipc;

/// <summary>
/// Open wait across many links finds the ready one through the doorbell hints, not by scanning every link:
/// with honest senders the receiver's full-scan fallback stays at the periodic starvation guard.
/// </summary>
[Collection(ProcessCollection.Name)]
public class OpenWaitScaleTests
{
    [Fact]
    public void Wait_ManyLinksFromAnotherProcess_UsesHintsNotFullScans()
    {
        const int Links = 300;
        const int Rounds = 20;
        using TempDir dir = new();
        using L4Thread receiver = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(dir.Socket());
        using ChildProcess child = ChildProcess.Start("multi-sender", dir.Socket(), Links.ToString(CultureInfo.InvariantCulture), Rounds.ToString(CultureInfo.InvariantCulture));
        List<ReceiveLink> links = [];
        for (int i = 0; i < Links; i++)
        {
            links.Add(listener.Accept(receiver, (ulong)(5000 + i), TimeSpan.FromSeconds(30)));
        }

        child.WaitForLine("CONNECTED");
        long scansBefore = receiver.FullScans;
        int[] next = new int[Links];
        for (int n = 0; n < Links * Rounds; n++)
        {
            IpcResult r = receiver.Wait(L4Timeout.FromMilliseconds(30_000));
            Assert.Equal(L4Status.Ok, r.Status);
            int link = (int)receiver.Utcb.Mr[0];
            Assert.Equal((ulong)(5000 + link), r.Label);
            Assert.Equal((ulong)next[link], receiver.Utcb.Mr[1]);
            next[link]++;
        }

        Assert.Equal("DONE 0", child.WaitForLine("DONE"));
        long scans = receiver.FullScans - scansBefore;

        // The guard scans once per max(64, 4 × links) messages; anything near one scan per message would be O(n) waiting.
        long guard = (Links * Rounds / Math.Max(64, 4 * Links)) + 1;
        Assert.True(scans <= guard + 2, $"{scans} full scans for {Links * Rounds} messages (guard allows {guard})");
        foreach (ReceiveLink link in links)
        {
            link.Dispose();
        }
    }
}
