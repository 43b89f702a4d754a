using System.Diagnostics;
using System.Runtime.CompilerServices;
using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Memory;

namespace L4Rt.Channels;

/// <summary>
/// What producer and consumer share: the mapped ring, the adaptive wait (bounded spin, then futex on a wake
/// word after raising a waiter flag and re-checking), the fault state, the statistics and the lifetime.
/// </summary>
/// <remarks>
/// Every data-path operation takes its inputs, then its <see cref="L4Timeout"/>, then its <c>out</c> results, as
/// <see cref="L4Thread.Send(SendLink, MsgTag, L4Timeout)"/> does: <c>Reserve(size, timeout, out record)</c>,
/// <c>Write(data, timeout)</c>, <c>Read(timeout, out record)</c>, <c>Read(destination, timeout, out length)</c>.
/// Setup calls take a <see cref="TimeSpan"/>; <see cref="L4Timeout.FromTimeSpan"/> and <see cref="L4Timeout.ToTimeSpan"/>
/// convert between the two.
/// </remarks>
public abstract class ChannelEndpoint : IDisposable
{
    private readonly Lock _lifetime = new();
    private bool _disposed;
    private OwnerGuard _guard;
    private AsyncFutexWait? _asyncWait;
    private long _spinTicks = Libc.Futex.NanosToTicks(L4Thread.DefaultSpinNanoseconds);
    private long _lastMove; // when this end last moved off a CPU it shared with its peer (CoLocation)

    private protected ChannelEndpoint(ChannelRegion region, bool producer)
    {
        Region = region;
        IsProducer = producer;
        CoLocation.Prepare(); // its libc calls bound here, not on the first wake-up of the data path
        if (AsymmetricFence.Available)
        {
            // From here on this side issues the barrier before it sleeps, so the other side may skip its fences.
            ref ChannelLayout l = ref region.Layout;
            Volatile.Write(ref producer ? ref l.ProducerFences : ref l.ConsumerFences, 1);
        }

        ChannelMetrics.Register(this);
    }

    /// <summary>Ring capacity in bytes.</summary>
    public long Capacity => Region.Capacity;

    /// <summary>
    /// How long a blocking operation spins before it sleeps (0: futex only); the default is
    /// <see cref="L4Thread.DefaultSpinNanoseconds"/>. A value below 0 or above <see cref="L4Thread.MaxSpinNanoseconds"/>
    /// throws <see cref="ArgumentOutOfRangeException"/>, as on <see cref="L4Thread.SpinNanoseconds"/>.
    /// </summary>
    public long SpinNanoseconds
    {
        get => Libc.Futex.TicksToNanos(_spinTicks);
        set => _spinTicks = L4Thread.SpinTicks(value);
    }

    /// <summary>Records passed through this endpoint.</summary>
    public long Records { get; private protected set; }

    /// <summary>Payload bytes passed through this endpoint.</summary>
    public long Bytes { get; private protected set; }

    /// <summary>futex wake calls this endpoint issued (only when the other side slept).</summary>
    public long WakeupsIssued { get; private protected set; }

    /// <summary>Times this endpoint, woken by a peer running on the same CPU, moved itself to another CPU (<see cref="CoLocation"/>).</summary>
    public long Relocations { get; private set; }

    /// <summary>Times this endpoint had to wait: the ring was full (producer) or empty (consumer).</summary>
    public long Stalls { get; private protected set; }

    /// <summary>Set once the peer broke the protocol; every later operation returns <see cref="L4Status.ProtocolViolation"/>.</summary>
    public bool IsFaulted { get; private protected set; }

    internal ChannelRegion Region { get; }

    internal bool IsProducer { get; }

    /// <summary>True once this end was disposed (a blocked operation returns <see cref="L4Status.Aborted"/>).</summary>
    public bool IsDisposed => _guard.IsDisposed;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // four times per record
    private protected bool Enter()
    {
        if (_guard.TryEnter(out bool release))
        {
            return true;
        }

        if (release)
        {
            ReleaseAfterDispose();
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected void Exit()
    {
        if (_guard.Exit())
        {
            ReleaseAfterDispose();
        }
    }

    /// <summary>
    /// The owner unmaps the ring after a <see cref="Dispose"/> from another thread, but only once that Dispose has
    /// left its lock: it still writes the ring (MarkDead) after disposing the guard, which is what lets the owner
    /// out. Unmapping under its feet was an access violation.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // the rare end of a Dispose from another thread: out of the inlined guards
    private void ReleaseAfterDispose()
    {
        lock (_lifetime)
        {
            Region.Dispose();
        }
    }

    private protected L4Status Fault()
    {
        IsFaulted = true;
        return L4Status.ProtocolViolation;
    }

    /// <summary>
    /// Waits until <see cref="IsReady"/> holds: spins within the budget, then sleeps on <paramref name="wake"/>
    /// after raising <paramref name="waiting"/> and re-checking (no lost wake-up: the other side bumps the wake word
    /// after publishing, whenever it sees the flag).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private protected void WaitUntilReady(ref int waiting, ref int wake, ref long asleepSince, long deadline)
    {
        Stalls++;
        long spinTicks = _spinTicks;
        WakeHint.BeforeSpin();
        long spinStart = 0;
        for (int i = 1; spinTicks > 0; i++)
        {
            if (IsReady() || _guard.IsDisposed)
            {
                return;
            }

            if ((i & 63) == 0)
            {
                long now = Stopwatch.GetTimestamp();
                spinStart = spinStart == 0 ? now : spinStart;
                if (now - spinStart >= spinTicks || now >= deadline)
                {
                    break;
                }
            }

            CpuRelax.Pause();
        }

        long sleptAt = Stopwatch.GetTimestamp();
        Volatile.Write(ref asleepSince, sleptAt); // before the flag: a waker reads it after seeing the flag
        while (true)
        {
            // The wake word is read BEFORE the flag goes up. A waker takes the flag down itself (WakeIfWaiting) and
            // then bumps the word: read after raising the flag, the word could already hold the bump of a waker that
            // took down THIS flag on behalf of an earlier publish, and this side would sleep with its flag down and
            // miss the next publish (seen as 30-s stalls once the membarrier below widened that window). Read before,
            // any later bump ends the futex wait at once.
            int observed = Volatile.Read(ref wake);

            // Dekker handshake with the other side's publish (PublishPosition): raise the flag with a full fence, then
            // the membarrier that lets the busy side publish without one, then re-check. Should the kernel refuse the
            // barrier, the other side may have published unfenced: sleep only briefly before looking again.
            Interlocked.Exchange(ref waiting, 1);
            long sleepLimit = AsymmetricFence.BeforeSleep() ? deadline : Math.Min(deadline, Stopwatch.GetTimestamp() + BarrierRefusedTicks);
            if (IsReady() || _guard.IsDisposed)
            {
                Volatile.Write(ref waiting, 0);
                return;
            }

            long now = Stopwatch.GetTimestamp();
            if (now >= deadline)
            {
                Volatile.Write(ref waiting, 0);
                return; // the caller re-checks and reports its own timeout kind
            }

            Futexes.Wait(ref wake, observed, sleepLimit == long.MaxValue ? -1 : Libc.Futex.TicksToNanos(Math.Max(0, sleepLimit - now)));
            Volatile.Write(ref waiting, 0);

            // Woken by a peer that ran on this very CPU: the two ends would take turns on one CPU (CoLocation). Only for
            // a spinning end after a short sleep, a stream's convoy: an idle end (asleep over 1 ms) is woken where its
            // waker runs and should stay there, and a futex-only end (no spin) has chosen to take turns.
            if (spinTicks > 0 && Stopwatch.GetTimestamp() - sleptAt < WakeHint.IdleTicks && AfterWakeMoved())
            {
                Relocations++;
            }

            // Woken (or timed out): look before arming again, so a wake with data behind it (the common case) costs no
            // second flag exchange and membarrier. Nothing is lost if it is not ready yet: the loop arms and re-checks.
            if (IsReady() || _guard.IsDisposed)
            {
                return;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool AfterWakeMoved()
    {
        ref ChannelLayout header = ref Region.Layout;
        return CoLocation.AfterWake(ref IsProducer ? ref header.ConsumerCpu : ref header.ProducerCpu, ref _lastMove);
    }

    /// <summary>How long a sleeper whose membarrier the kernel refused sleeps before it looks again (1 ms).</summary>
    private static readonly long BarrierRefusedTicks = Stopwatch.Frequency / 1000;

    /// <summary>
    /// Publishes this side's position (Tail or Head) and so orders it before the read of the other side's waiter flag
    /// that follows (<see cref="WakeIfWaiting"/>). While the other side issues the membarrier before it sleeps
    /// (<paramref name="peerFences"/>: its word in the header, a hostile value only costs that side its own wake-ups),
    /// a release store is enough (<see cref="AsymmetricFence"/>); otherwise a locked exchange, the full fence that pairs
    /// with the sleeper's <c>Exchange(waiting, 1)</c> and re-check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static void PublishPosition(ref long shared, long value, ref int peerFences)
    {
        if (AsymmetricFence.Available && Volatile.Read(ref peerFences) != 0)
        {
            Volatile.Write(ref shared, value);
        }
        else
        {
            Interlocked.Exchange(ref shared, value);
        }
    }

    /// <summary>
    /// The asynchronous <see cref="WaitUntilReady"/>: one armed look (wake word read, flag raised, <see cref="IsReady"/>
    /// re-checked), then one wait in the process's futex reactor, which holds no thread. The caller lowers the flag
    /// (<see cref="Disarm"/>) and loops. Owner only, inside <see cref="Enter"/>.
    /// </summary>
    private protected ValueTask<FutexWake> WaitUntilReadyAsync(nint waiting, nint wake, nint asleepSince, long deadline, CancellationToken cancellationToken)
    {
        Stalls++;
        if (ArmOrReady(waiting, wake, asleepSince, ref deadline, out int observed, out FutexWake early))
        {
            return ValueTask.FromResult(early);
        }

        return (_asyncWait ??= new()).WaitAsync(wake, observed, deadline, cancellationToken);
    }

    private unsafe bool ArmOrReady(nint waiting, nint wake, nint asleepSince, ref long deadline, out int observed, out FutexWake early)
    {
        Volatile.Write(ref *(long*)asleepSince, Stopwatch.GetTimestamp()); // before the flag: a waker reads it after seeing the flag
        observed = Volatile.Read(ref *(int*)wake); // before the flag, as in WaitUntilReady (a waker takes the flag down itself)
        Interlocked.Exchange(ref *(int*)waiting, 1); // the Dekker handshake of WaitUntilReady, with its barrier
        if (!AsymmetricFence.BeforeSleep())
        {
            deadline = Math.Min(deadline, Stopwatch.GetTimestamp() + BarrierRefusedTicks); // a wake may be lost: look again soon (reported as a wake)
        }

        early = IsReady() || _guard.IsDisposed ? FutexWake.Woken : Stopwatch.GetTimestamp() >= deadline ? FutexWake.TimedOut : (FutexWake)(-1);
        if ((int)early < 0)
        {
            return false;
        }

        Disarm(waiting);
        return true;
    }

    /// <summary>Lowers a waiter flag raised by <see cref="WaitUntilReadyAsync"/>.</summary>
    private protected static unsafe void Disarm(nint waiting) => Volatile.Write(ref *(int*)waiting, 0);

    /// <summary>The address of a word of the ring's header (mapped memory: it never moves), for the futex reactor.</summary>
    private protected static unsafe nint AddressOf(ref int word) => (nint)Unsafe.AsPointer(ref word);

    /// <summary>The address of a stamp of the ring's header.</summary>
    private protected static unsafe nint AddressOf(ref long word) => (nint)Unsafe.AsPointer(ref word);

    /// <summary>Whether the awaited condition holds (room for the pending record, data, a fault, or a dead peer).</summary>
    private protected abstract bool IsReady();

    private protected static long Deadline(L4Timeout timeout) =>
        timeout.IsNever ? long.MaxValue : timeout.DeadlineFrom(Stopwatch.GetTimestamp());

    /// <summary>Wakes the other side if it flagged that it sleeps (called right after a publishing full fence).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // per publish and release: one read inline, the wake out of line
    private protected void WakeIfWaiting(ref int waiting, ref int wake, ref long asleepSince)
    {
        if (Volatile.Read(ref waiting) != 0)
        {
            Wake(ref waiting, ref wake, ref asleepSince);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Wake(ref int waiting, ref int wake, ref long asleepSince)
    {
        // Take the flag down ourselves: until the sleeper runs again (tens of µs), every later publish would
        // otherwise see it raised and issue another futex wake. One wake per sleep.
        if (Interlocked.Exchange(ref waiting, 0) != 0)
        {
            ref ChannelLayout header = ref Region.Layout;
            CoLocation.NoteWaker(ref IsProducer ? ref header.ProducerCpu : ref header.ConsumerCpu);
            Interlocked.Increment(ref wake);
            Futexes.Wake(ref wake);
            WakeupsIssued++;
            WakeHint.WokeSleeper(Volatile.Read(ref asleepSince));
        }
    }

    /// <summary>
    /// Published bytes the consumer has not released, read from the ring's shared positions (0 once disposed, or
    /// when the positions make no sense: a hostile peer's values are not reported). For the meter, off the hot path.
    /// </summary>
    internal long SharedBytesInFlight()
    {
        lock (_lifetime)
        {
            if (_disposed)
            {
                return 0;
            }

            ref ChannelLayout l = ref Region.Layout;
            long inFlight = Volatile.Read(ref l.Tail) - Volatile.Read(ref l.Head);
            return inFlight >= 0 && inFlight <= Capacity ? inFlight : 0;
        }
    }

    /// <summary>
    /// A one-line picture of this end for a stalled-stream report: the positions this side keeps and the shared
    /// words as they read now (the other side may be changing them).
    /// </summary>
    public override string ToString()
    {
        lock (_lifetime)
        {
            if (_disposed)
            {
                return $"{GetType().Name} (disposed)";
            }

            ref ChannelLayout l = ref Region.Layout;
            return $"{GetType().Name} {DescribePositions()}; shared tail {Volatile.Read(ref l.Tail)} head {Volatile.Read(ref l.Head)}, " +
                $"waiting c{Volatile.Read(ref l.ConsumerWaiting)}/p{Volatile.Read(ref l.ProducerWaiting)}, dead c{Volatile.Read(ref l.ConsumerDead)}/p{Volatile.Read(ref l.ProducerDead)}; " +
                $"{Records} records, {Bytes} bytes, {Stalls} stalls, {WakeupsIssued} wake-ups issued{(IsFaulted ? ", FAULTED" : string.Empty)}";
        }
    }

    private protected abstract string DescribePositions();

    /// <summary>Called by the broker or the peer watch when the other side died.</summary>
    internal void MarkPeerDead()
    {
        lock (_lifetime)
        {
            if (!_disposed)
            {
                Region.MarkDead(producer: !IsProducer);
            }
        }
    }

    /// <summary>
    /// Closes this end: the other side learns (<see cref="L4Status.DestinationDeleted"/>) once it has drained what was
    /// published. Safe from any thread: a blocked operation of the owner returns <see cref="L4Status.Aborted"/> and the
    /// ring is unmapped after it has left. (Spans handed out must not be used after disposing.)
    /// </summary>
    public void Dispose()
    {
        bool release;
        lock (_lifetime)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            release = _guard.Dispose();
            Region.MarkDead(producer: IsProducer); // also wakes our own sleeper, which sees the guard disposed
        }

        if (release)
        {
            Region.Dispose();
        }

        ChannelMetrics.Unregister(this);
        GC.SuppressFinalize(this);
    }
}
