using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using L4Rt.Memory;

namespace L4Rt.Ipc;

/// <summary>
/// An IPC thread: a <see cref="Utcb"/>, a receiving endpoint (its doorbell and the links bound to it),
/// and the sender side of the IPC operations. It is used by one OS thread at a time (not thread-safe);
/// receiving threads are usually dedicated OS threads. Operations have their L4 meaning:
/// <see cref="Send(SendLink, MsgTag, L4Timeout)"/>, <see cref="Receive"/> (closed wait), <see cref="Wait"/> (open wait),
/// <see cref="Call(SendLink, MsgTag, L4Timeout, L4Timeout)"/> (atomic send + closed receive),
/// <see cref="Reply"/>, <see cref="ReplyAndWait(MsgTag, L4Timeout)"/> and <see cref="Sleep"/>.
/// </summary>
/// <remarks>
/// Waiting is adaptive: a bounded spin of <see cref="SpinNanoseconds"/> (with the CPU's pause hint),
/// then a futex sleep; a partner calls futex wake only when the waiter flagged that it sleeps.
/// </remarks>
public sealed partial class L4Thread : IDisposable
{
    /// <summary>Default spin budget before sleeping: long enough to catch a partner on another core, short enough for 2 cores.</summary>
    public const long DefaultSpinNanoseconds = 20_000;

    /// <summary>The largest spin budget <see cref="SpinNanoseconds"/> (and a channel end's) accepts: a spin is never a substitute for sleeping.</summary>
    public const long MaxSpinNanoseconds = 10_000_000;

    private readonly DoorbellRegion _doorbell;
    private readonly PrivateWord _sleepWord = new();
    private readonly ConcurrentQueue<ReceiveLink> _retired = new();
    private EndpointTable<ReceiveLink> _endpoints = new(initialSize: 16, capacity: DoorbellLayout.MaxLinks);
    private readonly ConcurrentQueue<ReceiveLink> _senderDeaths = new(); // direct links whose sender process died, not yet reported
    private int _senderDeathsPending; // 1 while _senderDeaths may hold entries: one plain read when a wait finds no message
    private long _spinTicks;
    private int _aborted; // 0, or the L4Status every blocking operation returns from now on (Aborted, BrokerLost)
    private int _disposed;
    private OwnerGuard _guard;
    private readonly Lock _foreign = new(); // other threads (Abort, link death) vs Dispose
    private LinkCache<SendLink> _sendLinks; // the links this thread sends through gates on; its user's alone

    /// <summary>Creates a thread with its own UTCB and doorbell.</summary>
    public L4Thread()
    {
        _doorbell = DoorbellRegion.Create();
        SpinNanoseconds = DefaultSpinNanoseconds;
        IpcMetrics.Register(this);
    }

    /// <summary>What this thread did (the "L4Rt.Ipc" meter); plain fields, written by the owner only.</summary>
    internal IpcCounters Counters;

    /// <summary>Counts an operation's outcome: <paramref name="done"/> when it succeeded, a timeout when it timed out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private IpcResult Counted(IpcResult result, ref long done)
    {
        if (result.Status == L4Status.Ok)
        {
            done++;
        }
        else if (result.Status is L4Status.SendTimeout or L4Status.ReceiveTimeout)
        {
            Counters.Timeouts++;
        }

        return result;
    }

    /// <summary>The virtual registers of this thread.</summary>
    public Utcb Utcb { get; } = new();

    /// <summary>
    /// How long a waiting operation spins before it sleeps on a futex. 0 gives futex-only waiting
    /// (lowest CPU use, higher latency); the default is <see cref="DefaultSpinNanoseconds"/>. A value below 0 or
    /// above <see cref="MaxSpinNanoseconds"/> throws <see cref="ArgumentOutOfRangeException"/> (as on a channel end).
    /// </summary>
    public long SpinNanoseconds
    {
        get => Interop.Libc.Futex.TicksToNanos(_spinTicks);
        set => _spinTicks = SpinTicks(value);
    }

    /// <summary>Validates a spin budget (0..<see cref="MaxSpinNanoseconds"/>) and converts it to Stopwatch ticks; shared with channel ends.</summary>
    internal static long SpinTicks(long nanoseconds, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(nanoseconds))] string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nanoseconds, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nanoseconds, MaxSpinNanoseconds, name);
        return Interop.Libc.Futex.NanosToTicks(nanoseconds);
    }

    /// <summary>Number of links currently bound to this thread.</summary>
    public int LinkCount => _endpoints.Count;

    internal DoorbellRegion Doorbell => _doorbell;

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The futex word of <see cref="Sleep"/> (tests wait until the thread sleeps on it).</summary>
    internal PrivateWord SleepWord => _sleepWord;

    /// <summary>The link this thread sends through to <paramref name="target"/> (a gate), if it has one; plain loads, owner only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryGetCachedLink(object target, [NotNullWhen(true)] out SendLink? link) => _sendLinks.TryGet(target, out link);

    /// <summary>Remembers the link to <paramref name="target"/>; called only by the thread's user (one OS thread at a time).</summary>
    internal void CacheLink(object target, SendLink link) => _sendLinks.Add(target, link);

    /// <summary>Raised once when the thread is disposed.</summary>
    internal event Action<L4Thread>? Disposed;

    /// <summary>
    /// Binds a new link to this thread and returns the receiving end; the descriptors of
    /// <see cref="ReceiveLink.Region"/> and <see cref="Doorbell"/> go to the sender. The broker does this
    /// for gates; <see cref="DirectLinkListener"/> does it without a broker.
    /// </summary>
    internal ReceiveLink CreateLink(ulong label)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (IsBrokerManaged)
        {
            throw new InvalidOperationException("This thread belongs to a broker task; its links come from gates, not from direct setup.");
        }

        if (!_endpoints.TryReserve(out int index))
        {
            throw new L4RtException(L4Status.QuotaExceeded, $"A thread receives through at most {DoorbellLayout.MaxLinks} links.");
        }

        ReceiveLink link;
        try
        {
            link = new(this, LinkRegion.Create(index), index, label);
        }
        catch
        {
            _endpoints.Free(index);
            throw;
        }

        _endpoints.Publish(index, link);
        return link;
    }

    /// <summary>True for threads created through <c>L4Task.CreateThread</c>: the broker assigns their link indices.</summary>
    internal bool IsBrokerManaged { get; init; }

    /// <summary>The broker's id of this thread (0 for a thread not created through a task).</summary>
    internal int BrokerId { get; set; }

    /// <summary>Where messages with typed items received by this thread are accepted (null: a thread no broker serves; such messages are refused).</summary>
    internal IItemTransfer? ItemTransfer { get; set; }

    /// <summary>
    /// Installs an endpoint the broker bound to this thread at the index it chose (a gate's link or an IRQ).
    /// Takes ownership of <paramref name="region"/>.
    /// </summary>
    internal ReceiveLink InstallEndpoint(int index, LinkRegion region, ulong label, bool isIrq)
    {
        ReceiveLink link = new(this, region, index, label, isIrq);
        if (Volatile.Read(ref _disposed) != 0 || !_endpoints.TryInstall(index, link))
        {
            region.Dispose();
            throw new L4RtException(L4Status.ProtocolViolation, $"The broker bound an endpoint at index {index}, which is out of range or taken.");
        }

        RingOwnDoorbell(); // a trigger may have raced the installation: look again
        return link;
    }

    /// <summary>Removes the endpoint at <paramref name="index"/> (the broker closed it).</summary>
    internal void RemoveEndpoint(int index)
    {
        ReceiveLink?[] table = _endpoints.Slots;
        if ((uint)index < (uint)table.Length && Volatile.Read(ref table[index]) is { } link)
        {
            link.Dispose();
        }
    }

    /// <summary>Queues a removed link; its mapping is released on the owning thread.</summary>
    internal void Retire(ReceiveLink link)
    {
        _endpoints.Remove(link.Index, link);
        _retired.Enqueue(link);
        RingOwnDoorbell();
    }

    /// <summary>
    /// The sender process of a direct link died (the peer watch noticed): the next open wait reports it once, as
    /// <see cref="L4Status.DestinationDeleted"/> with the link's label. Safe from any thread.
    /// </summary>
    internal void ReportSenderDeath(ReceiveLink link)
    {
        _senderDeaths.Enqueue(link);
        Volatile.Write(ref _senderDeathsPending, 1); // after the enqueue: pairs with TryTakeSenderDeath's clear-then-recheck
        RingOwnDoorbell();
    }

    /// <summary>Wakes this thread's own wait so it re-checks (a link died or was removed).</summary>
    internal void RingOwnDoorbell()
    {
        lock (_foreign)
        {
            if (!_guard.IsDisposed)
            {
                _doorbell.Ring();
            }
        }
    }

    /// <summary>
    /// Makes the current and every later blocking operation of this thread return <see cref="L4Status.Aborted"/>
    /// (for shutting down a server loop). Safe to call from any thread.
    /// </summary>
    public void Abort() => Abort(L4Status.Aborted);

    /// <summary>Aborts with a given status (<see cref="L4Status.BrokerLost"/> when the broker died).</summary>
    internal void Abort(L4Status status)
    {
        Interlocked.CompareExchange(ref _aborted, (int)status, 0);
        lock (_foreign)
        {
            if (_guard.IsDisposed)
            {
                return; // disposed: the owner (if inside) sees the abort flag on its own
            }

            Interlocked.Increment(ref _sleepWord.Value);
            Memory.Futexes.Wake(ref _sleepWord.Value);
            _doorbell.Ring();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // every operation: the guard's two plain accesses, inline
    private bool Enter()
    {
        if (_guard.TryEnter(out bool release))
        {
            return true;
        }

        if (release)
        {
            Release();
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Exit()
    {
        if (_guard.Exit())
        {
            Release();
        }
    }

    /// <summary>Whether <see cref="Abort()"/> was called.</summary>
    public bool IsAborted => Volatile.Read(ref _aborted) != 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReleaseRetired()
    {
        while (_retired.TryDequeue(out ReceiveLink? link))
        {
            if (_watched == link)
            {
                _watched = null;
            }

            if (_replyLink == link)
            {
                _replyLink = null;
            }

            link.Region.Dispose();
            if (!IsBrokerManaged)
            {
                _endpoints.Free(link.Index); // the broker chooses its own indices
            }
        }
    }

    /// <summary>
    /// Deletes the thread: every sender blocked on one of its links returns <see cref="L4Status.DestinationDeleted"/>.
    /// Safe from any thread: an operation in progress returns <see cref="L4Status.Aborted"/>, and the shared
    /// mappings are released when it has left.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Abort(L4Status.Aborted);
        ReceiveLink?[] table = _endpoints.Snapshot();
        foreach (ReceiveLink? link in table)
        {
            link?.Dispose();
        }

        bool release;
        lock (_foreign)
        {
            _doorbell.MarkReceiverDead();
            release = _guard.Dispose();
        }

        Disposed?.Invoke(this);
        IpcMetrics.Retire(this);
        if (release)
        {
            Release();
        }
    }

    /// <summary>Unmaps everything; runs once, after the last operation has left.</summary>
    private void Release()
    {
        ReleaseRetired();
        _doorbell.Dispose();
        _sleepWord.Dispose();
    }
}
