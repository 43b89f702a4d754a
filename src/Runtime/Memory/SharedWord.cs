using System.Runtime.CompilerServices;

namespace L4Rt.Memory;

/// <summary>
/// A 32-bit word in a shared region, seen through a reference taken once from the mapping. Each method names the
/// ordering it gives, so a reader of the protocol code sees which access pairs with which (as Disruptor's
/// <c>SequencePointer</c> does). The word may be written by a hostile peer at any time: read it once into a local.
/// </summary>
internal readonly ref struct SharedWord
{
    private readonly ref int _word;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal SharedWord(ref int word) => _word = ref word;

    /// <summary>The word itself, for futex wait and wake (which take its address).</summary>
    internal ref int Raw => ref _word;

    /// <summary>Load with acquire ordering: later reads do not move before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int ReadAcquire() => Volatile.Read(ref _word);

    /// <summary>
    /// Load that takes the line for writing (an atomic add of 0: the value never changes): a spinning side that will
    /// commit by CAS when it sees a change gets the line once, exclusive, instead of shared first and then again to
    /// write. A full fence.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int ReadForWrite() => Interlocked.Add(ref _word, 0);

    /// <summary>Store with release ordering: earlier writes are visible before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteRelease(int value) => Volatile.Write(ref _word, value);

    /// <summary>Atomic exchange; a full fence: no read or write moves across it in either direction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int ExchangeFullFence(int value) => Interlocked.Exchange(ref _word, value);

    /// <summary>Atomic compare-and-swap; a full fence. Returns the value seen.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int CompareExchangeFullFence(int value, int comparand) => Interlocked.CompareExchange(ref _word, value, comparand);

    /// <summary>Atomic increment; a full fence. Returns the new value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int IncrementFullFence() => Interlocked.Increment(ref _word);
}
