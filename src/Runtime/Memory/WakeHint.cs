using System.Runtime.CompilerServices;

namespace L4Rt.Memory;

/// <summary>
/// Whether this OS thread has just woken a partner that had been asleep for a while (idle: asleep longer than
/// <see cref="IdleTicks"/>). If it has, its next spin begins by yielding the CPU once: on a machine with few cores
/// the woken partner is often placed on the waker's core and cannot run while the waker spins there, so a waker that
/// simply spins adds its spin budget to the idle partner's wake-up. Only idle partners: a receiver that sleeps
/// briefly between the messages of many senders is woken constantly, and a yield per wake there cut open-wait
/// throughput 7–10×; skipping the spin instead locked a busy ping-pong into futex speed.
/// </summary>
internal static class WakeHint
{
    /// <summary>How long a partner must have slept for its wake to count as an idle wake (1 ms).</summary>
    internal static readonly long IdleTicks = System.Diagnostics.Stopwatch.Frequency / 1000;

    [ThreadStatic]
    private static bool t_woke;

    /// <summary>After a futex wake: remembers it when the partner had slept since <paramref name="asleepSince"/> for longer than <see cref="IdleTicks"/> (a hostile stamp only decides whether we yield once).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void WokeSleeper(long asleepSince)
    {
        if (System.Diagnostics.Stopwatch.GetTimestamp() - asleepSince > IdleTicks)
        {
            t_woke = true;
        }
    }

    /// <summary>Called where a wait starts spinning: yields once if this thread woke an idle partner since its last spin.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void BeforeSpin()
    {
        if (t_woke)
        {
            YieldOnce();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void YieldOnce()
    {
        t_woke = false;
        Thread.Yield();
    }
}
