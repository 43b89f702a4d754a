using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace L4Rt.Ipc;

/// <summary>
/// The use guard of an object that one owner thread operates at a time (an <see cref="L4Thread"/>, a
/// <see cref="SendLink"/>): the owner's enter and exit are plain volatile accesses, and the rare
/// <see cref="Dispose"/> pays for the ordering with a process-wide memory barrier (the asymmetric Dekker
/// pattern): after the barrier, the owner's flag write is visible to the disposer, and the owner's next
/// read sees the disposed flag. Exactly one of them is told to release the resources.
/// Other threads must not enter; they synchronise with <see cref="Dispose"/> by a lock of the object's own.
/// </summary>
internal struct OwnerGuard
{
    private int _inUse;
    private int _disposed;
    private int _released;

    internal readonly bool IsDisposed => Volatile.Read(in _disposed) != 0;

    /// <summary>Owner: starts an operation; false if disposed, with <paramref name="release"/> set if the owner must release.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryEnter(out bool release)
    {
        // One plain read of a line the owner writes anyway: an operation that starts while another OS thread's is
        // still inside is misuse, told as such (two threads in one UTCB would otherwise tear each other's
        // messages into a ProtocolViolation that blames the peer). Two threads entering in the same few
        // nanoseconds can both pass; the check catches every overlap longer than that.
        if (Volatile.Read(ref _inUse) != 0)
        {
            ThrowConcurrentUse();
        }

        Volatile.Write(ref _inUse, 1);
        if (Volatile.Read(ref _disposed) == 0)
        {
            release = false;
            return true;
        }

        release = Exit();
        return false;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowConcurrentUse() => throw new InvalidOperationException(
        "An L4Thread, a link and a channel end are each operated by one OS thread at a time, but an operation started " +
        "while another thread's was still running. Give each OS thread its own L4Thread (and links, channel ends).");

    /// <summary>Owner: ends an operation; true if disposed meanwhile and the owner must release.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Exit()
    {
        Volatile.Write(ref _inUse, 0);
        return Volatile.Read(ref _disposed) != 0 && Interlocked.Exchange(ref _released, 1) == 0;
    }

    /// <summary>Any thread: marks disposed; true if the owner is not inside and the caller must release now.</summary>
    internal bool Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return false;
        }

        // Flushes every thread's store buffer: the owner's latest write of _inUse is visible below, and any
        // read of _disposed the owner makes after this point sees 1.
        Interlocked.MemoryBarrierProcessWide();
        return Volatile.Read(ref _inUse) == 0 && Interlocked.Exchange(ref _released, 1) == 0;
    }
}
