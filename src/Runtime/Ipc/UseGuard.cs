namespace L4Rt.Ipc;

/// <summary>
/// Keeps shared mappings alive while operations use them, so disposing from another thread can never
/// unmap memory under a running operation. Operations <see cref="TryEnter"/> and <see cref="Exit"/>;
/// <see cref="Dispose"/> may come from any thread. Whoever finishes last (the disposer, or the last
/// operation that was running when dispose came) is told exactly once to release the resources.
/// Each side publishes its change with a full fence before reading the other's (Dekker), so no
/// interleaving lets an operation run on released memory. Cost: two uncontended atomics per operation.
/// </summary>
internal struct UseGuard
{
    private int _users;
    private int _disposed;
    private int _released;

    internal readonly bool IsDisposed => Volatile.Read(in _disposed) != 0;

    /// <summary>Starts an operation; false if disposed, with <paramref name="release"/> set if this caller must release.</summary>
    internal bool TryEnter(out bool release)
    {
        Interlocked.Increment(ref _users); // full fence: pairs with Dispose's Exchange(_disposed) before it reads _users
        if (Volatile.Read(ref _disposed) == 0)
        {
            release = false;
            return true;
        }

        release = Exit();
        return false;
    }

    /// <summary>Ends an operation; true if the object was disposed meanwhile and this caller must release it.</summary>
    internal bool Exit() =>
        Interlocked.Decrement(ref _users) == 0 && Volatile.Read(ref _disposed) != 0 && Interlocked.Exchange(ref _released, 1) == 0;

    /// <summary>Marks disposed; true if no operation runs and this caller must release now.</summary>
    internal bool Dispose() =>
        Interlocked.Exchange(ref _disposed, 1) == 0 && Volatile.Read(ref _users) == 0 && Interlocked.Exchange(ref _released, 1) == 0;
}
