using System.Diagnostics;
using System.Runtime.CompilerServices;
using L4Rt.Interop;

namespace L4Rt.Memory;

/// <summary>
/// Breaks the convoy of a FIFO channel whose two ends the scheduler has put on one CPU. A woken thread is often queued
/// on its waker's CPU (wake-affine placement; on a VM that reports no cache topology, as this project's does, it is
/// queued there even while another CPU is idle), and two threads that keep waking each other there stay there: each
/// runs until the ring is full (or empty), spins for nothing because the other cannot run, sleeps and wakes the other
/// on the same CPU.
/// The load balancer leaves them alone, both being cache-hot. Seen on this project's 2-CPU machine: a 64 KiB copying
/// stream fell from 28–30 to 15–17 GB/s for whole rounds, with one futex wake per 40 records.
/// <para>
/// The waker leaves its CPU in the channel header (<see cref="NoteWaker"/>, on the wake path only); the woken side
/// compares it with its own (<see cref="AfterWake"/>) and, when they are the same, moves itself to another CPU of its
/// affinity mask: the mask without this CPU, which the kernel applies at once, then the original mask again, so
/// nothing stays pinned. At most once per <see cref="MinIntervalTicks"/> per channel end; never for a thread allowed on
/// one CPU only. The peer's word is advisory: a hostile value costs this side at most that one move per interval.
/// </para>
/// </summary>
internal static class CoLocation
{
    /// <summary>A channel end moves its thread at most this often (10 ms).</summary>
    internal static readonly long MinIntervalTicks = Stopwatch.Frequency / 100;

    /// <summary>Binds the three libc calls once, off the data path: a first P/Invoke call allocates (a woken side's first move would count against "0 bytes per record").</summary>
    static unsafe CoLocation()
    {
        _ = Libc.Sched.GetCpu();
        byte* mask = stackalloc byte[Libc.Sched.CpuSetBytes];
        if (Libc.Sched.GetAffinity(0, Libc.Sched.CpuSetBytes, mask) == 0)
        {
            _ = Libc.Sched.SetAffinity(0, Libc.Sched.CpuSetBytes, mask); // the mask it has: binds the call, changes nothing
        }
    }

    /// <summary>Runs the type initializer (the bindings above); called where a channel end is made.</summary>
    internal static void Prepare()
    {
    }

    /// <summary>Moves off the current CPU (counted; for the metrics and tests).</summary>
    internal static long Moves;

    /// <summary>The waker, before it bumps the wake word: leaves its CPU (+1; 0 means unknown) for the woken side.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void NoteWaker(ref int wakerCpu)
    {
        int cpu = Libc.Sched.GetCpu();
        Volatile.Write(ref wakerCpu, cpu < 0 ? 0 : cpu + 1); // published by the wake word's locked increment that follows
    }

    /// <summary>
    /// The woken side, right after its futex wait returned: when its waker ran on this CPU (<paramref name="wakerCpu"/>,
    /// the peer's word), moves to another one, unless it moved less than <see cref="MinIntervalTicks"/> ago
    /// (<paramref name="lastMove"/>: the caller's own stamp, a field of the channel end, not a thread static, whose
    /// first use on a thread allocates). True when it moved.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static bool AfterWake(ref int wakerCpu, ref long lastMove)
    {
        int waker = Volatile.Read(ref wakerCpu) - 1; // the peer's word: any value is only a hint
        if (waker < 0)
        {
            return false;
        }

        long now = Stopwatch.GetTimestamp();
        if (lastMove != 0 && now - lastMove < MinIntervalTicks)
        {
            return false;
        }

        int cpu = Libc.Sched.GetCpu();
        if (cpu != waker)
        {
            return false;
        }

        lastMove = now;
        return MoveOff(cpu);
    }

    /// <summary>Moves the calling thread off <paramref name="cpu"/> (its current one) and restores its affinity; false when it may run nowhere else or the kernel refused.</summary>
    internal static unsafe bool MoveOff(int cpu)
    {
        if ((uint)cpu >= Libc.Sched.CpuSetBytes * 8)
        {
            return false;
        }

        byte* original = stackalloc byte[Libc.Sched.CpuSetBytes];
        byte* elsewhere = stackalloc byte[Libc.Sched.CpuSetBytes];
        if (Libc.Sched.GetAffinity(0, Libc.Sched.CpuSetBytes, original) != 0)
        {
            return false;
        }

        bool other = false;
        for (int i = 0; i < Libc.Sched.CpuSetBytes; i++)
        {
            byte bits = original[i];
            if (i == cpu / 8)
            {
                bits &= (byte)~(1 << (cpu % 8));
            }

            elsewhere[i] = bits;
            other |= bits != 0;
        }

        if (!other)
        {
            return false; // allowed on this CPU only: the user's pinning stands
        }

        bool moved = Libc.Sched.SetAffinity(0, Libc.Sched.CpuSetBytes, elsewhere) == 0;
        _ = Libc.Sched.SetAffinity(0, Libc.Sched.CpuSetBytes, original); // restored whatever happened: nothing stays pinned
        if (moved)
        {
            Interlocked.Increment(ref Moves);
        }

        return moved;
    }
}
