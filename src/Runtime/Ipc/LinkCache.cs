using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace L4Rt.Ipc;

/// <summary>
/// The few links a sending thread used last, keyed by what they lead to (a gate). It lives inside the thread
/// that owns the links and is touched only by the OS thread using it (an <see cref="L4Thread"/> is used by one at a
/// time), so a hit is plain loads: no lock, no fence, and no other thread's write can pair a key with a wrong link.
/// </summary>
/// <typeparam name="TLink">The cached value (a <see cref="SendLink"/>; anything in unit tests).</typeparam>
internal struct LinkCache<TLink>
    where TLink : class
{
    internal const int Ways = 4;

    private Entries _entries;
    private int _victim;

    /// <summary>The link cached for <paramref name="key"/>, if any.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal readonly bool TryGet(object key, [NotNullWhen(true)] out TLink? link)
    {
        for (int i = 0; i < Ways; i++)
        {
            if (ReferenceEquals(_entries[i].Key, key))
            {
                link = _entries[i].Link!;
                return true;
            }
        }

        link = null;
        return false;
    }

    /// <summary>Caches <paramref name="link"/> for <paramref name="key"/>, replacing its old link or else the oldest entry.</summary>
    internal void Add(object key, TLink link)
    {
        int slot = -1;
        for (int i = 0; i < Ways && slot < 0; i++)
        {
            slot = ReferenceEquals(_entries[i].Key, key) ? i : -1;
        }

        if (slot < 0)
        {
            slot = _victim;
            _victim = (_victim + 1) % Ways;
        }

        _entries[slot].Key = key;
        _entries[slot].Link = link;
    }

    /// <summary>Forgets <paramref name="key"/> (its link was closed).</summary>
    internal void Remove(object key)
    {
        for (int i = 0; i < Ways; i++)
        {
            if (ReferenceEquals(_entries[i].Key, key))
            {
                _entries[i] = default;
            }
        }
    }

    private struct Entry
    {
        public object? Key;
        public TLink? Link;
    }

    [InlineArray(Ways)]
    private struct Entries
    {
        private Entry _element0;
    }
}
