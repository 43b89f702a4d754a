using L4Rt.Interop;
using System.Runtime.CompilerServices;

namespace L4Rt.Memory;

/// <summary>futex wait/wake on a 32-bit word given by reference into a shared region.</summary>
internal static unsafe class Futexes
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Libc.FutexWaitResult Wait(ref int word, int expected, long timeoutNs) =>
        Libc.Futex.Wait((int*)Unsafe.AsPointer(ref word), expected, timeoutNs);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Wake(ref int word, int count = int.MaxValue) =>
        Libc.Futex.Wake((int*)Unsafe.AsPointer(ref word), count);
}
