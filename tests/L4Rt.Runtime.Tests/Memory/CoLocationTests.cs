using L4Rt.Interop;
using L4Rt.Memory;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Memory;

/// <summary>The move off a CPU shared with the channel's peer: real sched_setaffinity calls on this thread, the affinity restored.</summary>
public class CoLocationTests
{
    private static unsafe byte[] Affinity()
    {
        byte[] mask = new byte[Libc.Sched.CpuSetBytes];
        fixed (byte* p = mask)
        {
            Assert.Equal(0, Libc.Sched.GetAffinity(0, Libc.Sched.CpuSetBytes, p));
        }

        return mask;
    }

    private static int AllowedCpus(byte[] mask) => mask.Sum(b => System.Numerics.BitOperations.PopCount(b));

    /// <summary>Runs <paramref name="body"/> on a fresh thread (its own CPU placement) and rethrows its failure.</summary>
    private static void OnFreshThread(Action body)
    {
        if (BackgroundThread.Start(body)() is { } failure)
        {
            throw new Xunit.Sdk.XunitException($"on the test thread: {failure}");
        }
    }

    [Fact]
    public void MoveOff_LeavesTheCpu_AndRestoresTheAffinityMask() => OnFreshThread(() =>
    {
        byte[] before = Affinity();
        int cpu = Libc.Sched.GetCpu();
        Assert.True(cpu >= 0);
        if (AllowedCpus(before) < 2)
        {
            Assert.False(CoLocation.MoveOff(cpu)); // pinned to one CPU: the pinning stands
            Assert.Equal(before, Affinity());
            return;
        }

        // The kernel applies the narrowed mask before sched_setaffinity returns; the scheduler may move the thread
        // back later, so a few tries, of which one must find it elsewhere right after the move.
        bool leftIt = false;
        for (int attempt = 0; attempt < 5 && !leftIt; attempt++)
        {
            cpu = Libc.Sched.GetCpu();
            Assert.True(CoLocation.MoveOff(cpu));
            leftIt = Libc.Sched.GetCpu() != cpu;
            Assert.Equal(before, Affinity()); // nothing stays pinned
        }

        Assert.True(leftIt, "the thread never ran on another CPU right after MoveOff");
    });

    [Fact]
    public void AfterWake_MovesOnlyWhenTheWakerRanHere_AtMostOncePerInterval() => OnFreshThread(() =>
    {
        if (AllowedCpus(Affinity()) < 2)
        {
            return; // covered by MoveOff's pinned branch: nowhere to go
        }

        long lastMove = 0; // a channel end's own stamp
        int unknown = 0;
        Assert.False(CoLocation.AfterWake(ref unknown, ref lastMove)); // an old or silent peer: no hint, no move
        int elsewhere = Libc.Sched.GetCpu() == 0 ? 2 : 1; // CPU + 1 of a CPU this thread is not on (or a hostile value: just no move)
        Assert.False(CoLocation.AfterWake(ref elsewhere, ref lastMove));
        int hostile = int.MinValue;
        Assert.False(CoLocation.AfterWake(ref hostile, ref lastMove));

        long moves = Interlocked.Read(ref CoLocation.Moves);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        int here = Libc.Sched.GetCpu() + 1;
        bool moved = CoLocation.AfterWake(ref here, ref lastMove);
        if (!moved)
        {
            return; // the scheduler moved this thread between the two reads: nothing shared, nothing to do
        }

        Assert.True(Interlocked.Read(ref CoLocation.Moves) > moves);
        here = Libc.Sched.GetCpu() + 1;
        bool again = CoLocation.AfterWake(ref here, ref lastMove);
        if (System.Diagnostics.Stopwatch.GetTimestamp() - start < CoLocation.MinIntervalTicks)
        {
            Assert.False(again); // within the interval: at most one move (a test thread descheduled past it may move again)
        }
    });
}
