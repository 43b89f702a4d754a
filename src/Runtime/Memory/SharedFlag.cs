using System.Runtime.CompilerServices;

namespace L4Rt.Memory;

/// <summary>
/// A 0/1 flag in a shared region (waiting, watching, dead). Any nonzero value a peer writes reads as raised, so a
/// hostile value cannot make a flag mean a third thing. The method names state the ordering.
/// </summary>
internal readonly ref struct SharedFlag
{
    private readonly ref int _flag;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal SharedFlag(ref int flag) => _flag = ref flag;

    /// <summary>Whether the flag is raised, read with acquire ordering.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool IsRaisedAcquire() => Volatile.Read(ref _flag) != 0;

    /// <summary>Raises the flag with a full fence (Exchange): the reads after it cannot move before it (the set-then-re-check pattern).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void RaiseFullFence() => Interlocked.Exchange(ref _flag, 1);

    /// <summary>Raises the flag with release ordering (earlier writes are visible first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void RaiseRelease() => Volatile.Write(ref _flag, 1);

    /// <summary>Lowers the flag with a full fence (Exchange): the reads after it cannot move before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void LowerFullFence() => Interlocked.Exchange(ref _flag, 0);

    /// <summary>Lowers the flag with release ordering.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void LowerRelease() => Volatile.Write(ref _flag, 0);
}
