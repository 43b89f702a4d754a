namespace L4Rt.Broker.Kernel;

/// <summary>A task's capability space: task-local slot indices, reused after deletion. Never a global id.</summary>
internal sealed class CapSpace
{
    /// <summary>The most slots one task may hold.</summary>
    internal const int MaxSlots = 65_536;

    private readonly List<Capability?> _slots = [];
    private readonly SortedSet<int> _free = [];

    internal int Count { get; private set; }

    internal IEnumerable<Capability> All => _slots.Where(c => c is not null)!;

    internal Capability? Get(int slot) => (uint)slot < (uint)_slots.Count ? _slots[slot] : null;

    internal int Insert(Capability cap)
    {
        int slot;
        if (_free.Count > 0)
        {
            slot = _free.Min;
            _free.Remove(slot);
            _slots[slot] = cap;
        }
        else
        {
            if (_slots.Count >= MaxSlots)
            {
                throw new L4RtException(L4Status.QuotaExceeded, $"a task holds at most {MaxSlots} capabilities");
            }

            slot = _slots.Count;
            _slots.Add(cap);
        }

        cap.Slot = slot;
        Count++;
        return slot;
    }

    /// <summary>Whether <paramref name="slot"/> is a slot index this space could hold and nothing is in it.</summary>
    internal bool IsFree(int slot) => (uint)slot < MaxSlots && Get(slot) is null;

    /// <summary>Puts <paramref name="cap"/> at the free slot <paramref name="slot"/> (see <see cref="IsFree"/>), growing the space up to it.</summary>
    internal void InsertAt(int slot, Capability cap)
    {
        if (!IsFree(slot))
        {
            throw new InvalidOperationException($"slot {slot} is not free");
        }

        while (_slots.Count <= slot)
        {
            _free.Add(_slots.Count);
            _slots.Add(null);
        }

        _free.Remove(slot);
        _slots[slot] = cap;
        cap.Slot = slot;
        Count++;
    }

    internal void Remove(Capability cap)
    {
        if ((uint)cap.Slot < (uint)_slots.Count && ReferenceEquals(_slots[cap.Slot], cap))
        {
            _slots[cap.Slot] = null;
            _free.Add(cap.Slot);
            Count--;
        }
    }
}
