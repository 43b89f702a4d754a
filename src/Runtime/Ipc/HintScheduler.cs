using System.Numerics;
using L4Rt.Memory;

namespace L4Rt.Ipc;

/// <summary>
/// Decides which links an open wait looks at, and in which order. Senders set hint bits in the shared doorbell;
/// <see cref="Drain"/> moves them into private memory, where a sender cannot touch them, and <see cref="NextPending"/>
/// hands the indices out round-robin from a cursor, so no link starves another. Hints are only hints: the caller
/// validates every index against the link's own State, and <see cref="BeginScan"/> says when to look at every link
/// instead: when the doorbell counter shows more posts than the hints accounted for (hints lost, or forged away),
/// and periodically, which bounds how long a hostile sender can delay others.
/// </summary>
/// <remarks>A mutable struct inside its <see cref="L4Thread"/>, used only by the receiving thread: its fields are the thread's own.</remarks>
internal struct HintScheduler
{
    private readonly ulong[] _pending = new ulong[DoorbellLayout.HintWords];
    private ulong _pendingSummary;
    private int _cursor;

    // Doorbell increments accounted for by the messages taken (through hints or a scan); a surplus means hints
    // were lost (or forged away) and triggers one full scan.
    private int _seqAccounted;
    private int _takesSinceScan;

    public HintScheduler()
    {
    }

    /// <summary>How often a full scan was chosen (diagnostics; the common case never scans).</summary>
    internal long FullScans { get; private set; }

    /// <summary>Whether hinted indices are waiting to be handed out.</summary>
    internal readonly bool HasPending => _pendingSummary != 0;

    /// <summary>Where a full scan starts (just after the link taken last).</summary>
    internal readonly int Cursor => _cursor;

    /// <summary>Moves the shared hint bits into private memory (the shared copy is only a hint; every candidate is validated).</summary>
    internal void Drain(ref DoorbellLayout d)
    {
        ulong summary = Volatile.Read(ref d.Summary); // pairs with the sender's Interlocked.Or of Summary after its hint word
        while (summary != 0)
        {
            int word = BitOperations.TrailingZeroCount(summary);
            summary &= summary - 1;
            ulong bit = 1UL << word;
            Interlocked.And(ref d.Summary, ~bit); // clear before draining: a sender sets the word first, then the summary
            ulong bits = Interlocked.Exchange(ref d.Hints[word], 0); // pairs with the sender's Interlocked.Or of the word
            if (bits != 0)
            {
                _pending[word] |= bits;
                _pendingSummary |= bit;
            }
        }
    }

    /// <summary>
    /// Pops the next pending index at or after the cursor, wrapping round (round-robin). Only when <see cref="HasPending"/>.
    /// The cursor's own word is looked at for indices at or after the cursor first, then the later words, and only
    /// then the indices before the cursor: a link that posts again at once cannot keep the others waiting.
    /// </summary>
    internal int NextPending()
    {
        int startWord = (_cursor >> 6) & (DoorbellLayout.HintWords - 1);
        ulong bits = _pending[startWord] & (ulong.MaxValue << (_cursor & 63));
        int word = startWord;
        if (bits == 0)
        {
            // Bit 0 of the rotated summary is the word after the cursor's; the cursor's own word comes last (bit 63).
            ulong after = BitOperations.RotateRight(_pendingSummary, startWord + 1);
            word = (BitOperations.TrailingZeroCount(after) + startWord + 1) & (DoorbellLayout.HintWords - 1);
            bits = _pending[word];
        }

        int bitIndex = BitOperations.TrailingZeroCount(bits);
        _pending[word] &= ~(1UL << bitIndex);
        if (_pending[word] == 0)
        {
            _pendingSummary &= ~(1UL << word);
        }

        int index = (word << 6) | bitIndex;
        _cursor = index + 1;
        return index;
    }

    /// <summary>Marks <paramref name="index"/> pending without a doorbell hint (a watched link found posted when watching stopped).</summary>
    internal void MarkPending(int index)
    {
        _pending[(index >> 6) & (DoorbellLayout.HintWords - 1)] |= 1UL << index;
        _pendingSummary |= 1UL << ((index >> 6) & (DoorbellLayout.HintWords - 1));
    }

    /// <summary>A message was taken through a hint: it accounts for its sender's doorbell increment.</summary>
    internal void TookHinted()
    {
        _seqAccounted++;
        _takesSinceScan++;
    }

    /// <summary>
    /// Whether to scan every link now, given the doorbell counter read before the drain and the table's high-water
    /// mark; if so, the counter is taken as accounted for.
    /// </summary>
    internal bool BeginScan(int seq, int highWater)
    {
        if (seq - _seqAccounted <= 0 && _takesSinceScan < Math.Max(64, 4 * highWater))
        {
            return false;
        }

        _seqAccounted = seq;
        _takesSinceScan = 0;
        FullScans++;
        return true;
    }

    /// <summary>
    /// A scan took a message at <paramref name="index"/>. It accounts for its sender's increment, which may not have
    /// happened yet; otherwise the late increment reads as a surplus and triggers scan after scan.
    /// </summary>
    internal void TookByScan(int index)
    {
        _seqAccounted++;
        _cursor = index + 1;
    }
}
