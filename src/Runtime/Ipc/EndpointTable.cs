namespace L4Rt.Ipc;

/// <summary>
/// The endpoints (links and IRQs) bound to one receiving thread, by index: the index is the endpoint's bit in the
/// doorbell's hints. Writers (link setup, the broker's notifications, removal) take the lock; the receiving thread
/// reads <see cref="Slots"/> without one, so growing copies the array and publishes the copy.
/// </summary>
/// <remarks>A mutable struct inside its <see cref="L4Thread"/>: no extra indirection on the receiver's path.</remarks>
/// <typeparam name="T">The endpoint type (<see cref="ReceiveLink"/>; anything in unit tests).</typeparam>
internal struct EndpointTable<T>
    where T : class
{
    private readonly Lock _lock = new();
    private readonly Stack<int> _free = new();
    private readonly int _capacity;
    private T?[] _slots;
    private int _highWater;

    /// <summary>A table of at most <paramref name="capacity"/> endpoints, starting with room for <paramref name="initialSize"/>.</summary>
    internal EndpointTable(int initialSize, int capacity)
    {
        _capacity = capacity;
        _slots = new T?[Math.Min(initialSize, capacity)];
    }

    /// <summary>The current array, for lock-free reads; an entry may be null (free or removed).</summary>
    internal T?[] Slots => Volatile.Read(ref _slots); // pairs with the Volatile.Write in Store

    /// <summary>One past the highest index ever used: how far a full scan looks (a stale value only shortens one scan).</summary>
    internal readonly int HighWater => _highWater;

    /// <summary>Number of endpoints in the table now.</summary>
    internal int Count
    {
        get
        {
            int count = 0;
            foreach (T? slot in Slots)
            {
                count += slot is null ? 0 : 1;
            }

            return count;
        }
    }

    /// <summary>Reserves the lowest reusable index (or the next new one); false when all <c>capacity</c> indices are used.</summary>
    internal bool TryReserve(out int index)
    {
        lock (_lock)
        {
            if (_free.Count > 0)
            {
                index = _free.Pop();
                return true;
            }

            if (_highWater >= _capacity)
            {
                index = -1;
                return false;
            }

            index = _highWater++;
            return true;
        }
    }

    /// <summary>Puts <paramref name="item"/> at an index from <see cref="TryReserve"/>.</summary>
    internal void Publish(int index, T item)
    {
        lock (_lock)
        {
            Store(index, item);
        }
    }

    /// <summary>Puts <paramref name="item"/> at an index someone else chose (the broker); false if it is out of range or taken.</summary>
    internal bool TryInstall(int index, T item)
    {
        lock (_lock)
        {
            if ((uint)index >= (uint)_capacity || (index < _slots.Length && _slots[index] is not null))
            {
                return false;
            }

            Store(index, item);
            _highWater = Math.Max(_highWater, index + 1);
            return true;
        }
    }

    /// <summary>Empties slot <paramref name="index"/> if it still holds <paramref name="item"/>; the index stays used until <see cref="Free"/>.</summary>
    internal void Remove(int index, T item)
    {
        lock (_lock)
        {
            T?[] slots = _slots;
            if ((uint)index < (uint)slots.Length && ReferenceEquals(slots[index], item))
            {
                Volatile.Write(ref slots[index], null); // pairs with the receiver's Volatile.Read of the slot
            }
        }
    }

    /// <summary>Makes <paramref name="index"/> reusable (its endpoint is gone and unmapped, or was never made).</summary>
    internal void Free(int index)
    {
        lock (_lock)
        {
            _free.Push(index);
        }
    }

    /// <summary>The array as it is now, read under the lock (for disposing every endpoint).</summary>
    internal readonly T?[] Snapshot()
    {
        lock (_lock)
        {
            return _slots;
        }
    }

    private void Store(int index, T item)
    {
        T?[] slots = _slots;
        if (index >= slots.Length)
        {
            // Copy-on-write: the receiving thread reads the array without the lock.
            int size = slots.Length;
            while (size <= index)
            {
                size *= 2;
            }

            T?[] grown = new T?[Math.Min(_capacity, size)];
            slots.CopyTo(grown, 0);
            slots = grown;
        }

        slots[index] = item;
        Volatile.Write(ref _slots, slots); // pairs with the receiver's Volatile.Read in Slots
    }
}
