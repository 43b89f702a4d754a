using L4Rt.Ipc;
using L4Rt.Memory;

namespace L4Rt.Tests.Ipc;

/// <summary>The open wait's hint scheduler, on a doorbell layout in ordinary memory: no process, no link.</summary>
public class HintSchedulerTests
{
    /// <summary>What a sender does to the doorbell after posting on link <paramref name="index"/>.</summary>
    private static void Ring(ref DoorbellLayout d, int index)
    {
        d.Hints[index >> 6] |= 1UL << index;
        d.Summary |= 1UL << (index >> 6);
        d.Seq++;
    }

    private static List<int> DrainAll(ref HintScheduler s, ref DoorbellLayout d)
    {
        s.Drain(ref d);
        List<int> order = [];
        while (s.HasPending)
        {
            order.Add(s.NextPending());
        }

        return order;
    }

    [Fact]
    public void Drain_HintsInSeveralWords_MovesThemAllAndClearsTheSharedCopy()
    {
        DoorbellLayout d = default;
        HintScheduler s = new();
        foreach (int index in new[] { 3, 64, 65, 4095 })
        {
            Ring(ref d, index);
        }

        Assert.Equal([3, 64, 65, 4095], DrainAll(ref s, ref d));
        Assert.Equal(0UL, d.Summary);
        for (int w = 0; w < DoorbellLayout.HintWords; w++)
        {
            Assert.Equal(0UL, d.Hints[w]);
        }
    }

    [Fact]
    public void NextPending_AfterTakingALink_ContinuesRoundRobinPastIt()
    {
        DoorbellLayout d = default;
        HintScheduler s = new();
        Ring(ref d, 10);
        s.Drain(ref d);
        Assert.Equal(10, s.NextPending()); // the cursor is now 11

        // 5 and 10 posted again, plus 200: after 10 comes 200, then (wrapping round) 5, then 10.
        Ring(ref d, 5);
        Ring(ref d, 200);
        Assert.Equal([200, 5], DrainAll(ref s, ref d));
        Ring(ref d, 10);
        Ring(ref d, 5);
        Assert.Equal([10, 5], DrainAll(ref s, ref d)); // cursor 6 after 5: 10 first, then wrap to 5
    }

    [Fact]
    public void NextPending_OneLinkPostsAgainAfterEveryTake_TheOtherIsServedNext()
    {
        DoorbellLayout d = default;
        HintScheduler s = new();
        Ring(ref d, 5);
        Ring(ref d, 200);
        List<int> served = [];
        for (int i = 0; i < 4; i++)
        {
            s.Drain(ref d);
            int index = s.NextPending();
            served.Add(index);
            Ring(ref d, index); // a busy caller: posts again as soon as it is served
        }

        Assert.Equal([5, 200, 5, 200], served);
    }

    [Fact]
    public void Drain_SameLinkHintedTwice_HandsItOutOnce()
    {
        DoorbellLayout d = default;
        HintScheduler s = new();
        Ring(ref d, 7);
        Ring(ref d, 7);
        Assert.Equal([7], DrainAll(ref s, ref d));
    }

    [Fact]
    public void MarkPending_WithoutADoorbellHint_IsHandedOutLikeAHint()
    {
        DoorbellLayout d = default;
        HintScheduler s = new();
        s.MarkPending(130);
        Assert.True(s.HasPending);
        Assert.Equal([130], DrainAll(ref s, ref d));
    }

    [Fact]
    public void BeginScan_EveryPostAccountedFor_NoScan()
    {
        DoorbellLayout d = default;
        HintScheduler s = new();
        for (int i = 0; i < 10; i++)
        {
            Ring(ref d, i);
            int seq = d.Seq;
            Assert.Single(DrainAll(ref s, ref d));
            s.TookHinted();
            Assert.False(s.BeginScan(seq, highWater: 10));
        }

        Assert.Equal(0, s.FullScans);
    }

    [Fact]
    public void BeginScan_CounterAheadOfTheHints_ScansOnceThenNotAgain()
    {
        DoorbellLayout d = default;
        HintScheduler s = new();
        d.Seq = 3; // three posts whose hints a hostile sender wiped
        Assert.Empty(DrainAll(ref s, ref d));
        Assert.True(s.BeginScan(d.Seq, highWater: 4));
        Assert.False(s.BeginScan(d.Seq, highWater: 4)); // the surplus was taken as accounted for
        Assert.Equal(1, s.FullScans);
    }

    [Fact]
    public void BeginScan_ManyHintedTakes_ScansPeriodically()
    {
        HintScheduler s = new();
        int seq = 0;
        int scans = 0;
        for (int i = 0; i < 640; i++)
        {
            seq++;
            s.TookHinted();
            scans += s.BeginScan(seq, highWater: 2) ? 1 : 0;
        }

        Assert.Equal(10, scans); // every 64 takes at this table size: a hostile sender cannot hide a link for longer
    }

    [Fact]
    public void TookByScan_MovesTheCursorPastTheLinkTaken()
    {
        HintScheduler s = new();
        s.TookByScan(41);
        Assert.Equal(42, s.Cursor);
    }
}
