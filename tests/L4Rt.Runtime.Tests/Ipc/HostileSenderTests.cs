using System.Globalization;
using L4Rt.Ipc;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Ipc;

/// <summary>
/// A hostile sender scribbles over the receiver's doorbell (hints, summary, counter, waiting flag) or over its
/// own link (state, tag, words) while an honest sender streams messages. The receiver must deliver every honest
/// message exactly once, never deliver a malformed one, and never crash or read out of bounds.
/// </summary>
[Collection(ProcessCollection.Name)]
public class HostileSenderTests
{
    [Theory]
    [InlineData("doorbell", 1)]
    [InlineData("doorbell", 2)]
    [InlineData("slot", 3)]
    [InlineData("slot", 4)]
    public void Wait_HostileSenderCorruptsSharedMemory_HonestMessagesAllArriveOnce(string mode, int seed)
    {
        const int Honest = 3000;
        using TempDir dir = new();
        using L4Thread receiver = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(dir.Socket());
        using ChildProcess hostile = ChildProcess.Start("hostile-sender", dir.Socket(), "3000", seed.ToString(CultureInfo.InvariantCulture), mode);
        using ReceiveLink hostileLink = listener.Accept(receiver, 666, TimeSpan.FromSeconds(30));
        hostile.WaitForLine("CONNECTED");
        using ChildProcess honest = ChildProcess.Start("sender", dir.Socket(), Honest.ToString(CultureInfo.InvariantCulture), "1", "0");
        using ReceiveLink honestLink = listener.Accept(receiver, 1, TimeSpan.FromSeconds(30));

        int next = 0;
        int fromHostile = 0;
        while (next < Honest)
        {
            IpcResult r = receiver.Wait(L4Timeout.FromMilliseconds(30_000));
            Assert.Equal(L4Status.Ok, r.Status);
            Assert.InRange(r.Tag.Words + (r.Tag.Items * 2), 0, MsgTag.MaxWords);
            if (r.Label == 666)
            {
                fromHostile++; // a well-formed message the hostile side happened to post: allowed
                continue;
            }

            Assert.Equal(1UL, r.Label);
            Assert.Equal(1UL, receiver.Utcb.Mr[0]);
            Assert.Equal((ulong)next, receiver.Utcb.Mr[1]);
            next++;
        }

        // The hostile side must really have been at work while the honest messages went through.
        Assert.DoesNotContain("DONE", hostile.Output, StringComparison.Ordinal);
        Assert.Equal("DONE 0", honest.WaitForLine("DONE"));
        long writes = long.Parse(hostile.WaitForLine("DONE").Split(' ')[1], CultureInfo.InvariantCulture);
        Assert.True(writes > 0, "the hostile sender wrote nothing");
        ReliabilityLog.Record("shared memory", $"hostile sender's writes into its {(mode == "doorbell" ? "receiver's doorbell (hints, summary, counter, waiting word)" : "link (state, tag, words) with doorbell rings")} (seed {seed})",
            writes, $"all {Honest} honest messages delivered once, in order; {fromHostile} well-formed hostile ones; nothing malformed delivered");
    }
}
