namespace L4Rt.Ipc;

/// <summary>
/// The live objects a meter observes (weakly: the meter keeps nothing alive) and the totals of those already gone,
/// so an observable counter never drops back when an object is disposed. The objects count in private fields on
/// their hot paths; the meter sums them only when it is observed.
/// </summary>
internal sealed class MeteredSet<T>(int counters)
    where T : class
{
    private readonly Lock _lock = new();
    private readonly List<WeakReference<T>> _live = [];
    private readonly long[] _retired = new long[counters];

    internal void Register(T item)
    {
        lock (_lock)
        {
            _live.RemoveAll(w => !w.TryGetTarget(out _));
            _live.Add(new WeakReference<T>(item));
        }
    }

    /// <summary>Moves <paramref name="item"/>'s counts (<paramref name="read"/> fills them in counter order) to the retired totals.</summary>
    internal void Retire(T item, Action<T, long[]> read)
    {
        long[] counts = new long[_retired.Length];
        read(item, counts);
        lock (_lock)
        {
            if (_live.RemoveAll(w => !w.TryGetTarget(out T? e) || ReferenceEquals(e, item)) == 0)
            {
                return;
            }

            for (int i = 0; i < counts.Length; i++)
            {
                _retired[i] += counts[i];
            }
        }
    }

    /// <summary>Counter <paramref name="index"/> over live and retired objects (<paramref name="include"/> picks which live ones; retired totals always count).</summary>
    internal long Total(int index, Func<T, long> value, Func<T, bool>? include = null) => Sum(value, include) + RetiredTotal(index);

    /// <summary>A value over the live objects only (a gauge).</summary>
    internal long Sum(Func<T, long> value, Func<T, bool>? include = null)
    {
        long total = 0;
        lock (_lock)
        {
            foreach (WeakReference<T> weak in _live)
            {
                if (weak.TryGetTarget(out T? item) && (include is null || include(item)))
                {
                    total += value(item);
                }
            }
        }

        return total;
    }

    private long RetiredTotal(int index)
    {
        lock (_lock)
        {
            return _retired[index];
        }
    }
}
