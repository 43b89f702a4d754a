using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using L4Rt.Interop;

namespace L4Rt.Memory;

/// <summary>How an asynchronous futex wait ended.</summary>
internal enum FutexWake
{
    /// <summary>Woken, or the word no longer held the value: the waiter looks again.</summary>
    Woken,

    /// <summary>The deadline passed.</summary>
    TimedOut,

    /// <summary>The cancellation token fired.</summary>
    Canceled,
}

/// <summary>
/// Asynchronous futex waits without a parked thread per waiter: one reactor thread per process sleeps in
/// <c>futex_waitv</c> on every registered word at once (up to 127 per reactor, more reactors as needed) plus a control
/// word of its own, and completes a waiter when its word is woken (the waker's ordinary FUTEX_WAKE, from any process),
/// when its deadline passes, or when its token is cancelled (the control word is woken: within microseconds). The
/// waker's side does not change: it wakes only when the waiter raised its flag, as for a blocking waiter.
/// </summary>
internal sealed unsafe class FutexReactor
{
    private const int Capacity = Libc.FutexWaitv.MaxWaiters - 1; // entry 0 is the control word

    private static readonly Lock s_reactorsLock = new();
    private static readonly List<FutexReactor> s_reactors = [];

    private readonly Lock _lock = new();
    private readonly AsyncFutexWait?[] _waiters = new AsyncFutexWait?[Capacity];
    private readonly Libc.FutexWaitv.Entry* _entries = (Libc.FutexWaitv.Entry*)NativeMemory.AllocZeroed(Libc.FutexWaitv.MaxWaiters, (nuint)sizeof(Libc.FutexWaitv.Entry));
    private readonly int* _control = (int*)NativeMemory.AllocZeroed(sizeof(int));
    private int _count;

    private FutexReactor()
    {
        Thread thread = new(Run) { IsBackground = true, Name = "L4Rt futex reactor" };
        thread.Start();
    }

    private static readonly Lazy<string?> s_unsupported = new(Probe);

    /// <summary>A reactor with room for one more waiter (started on first use). Throws where the kernel lacks futex_waitv (before Linux 5.16).</summary>
    internal static FutexReactor Acquire()
    {
        if (s_unsupported.Value is { } reason)
        {
            throw new PlatformNotSupportedException($"asynchronous waits need futex_waitv (Linux 5.16 or later): {reason}");
        }

        lock (s_reactorsLock)
        {
            foreach (FutexReactor reactor in s_reactors)
            {
                if (Volatile.Read(ref reactor._count) < Capacity)
                {
                    return reactor;
                }
            }

            FutexReactor started = new();
            s_reactors.Add(started);
            return started;
        }
    }

    /// <summary>One futex_waitv on a word that does not hold the value given: EAGAIN at once where the call exists.</summary>
    private static string? Probe()
    {
        int* word = (int*)NativeMemory.AllocZeroed(sizeof(int));
        try
        {
            Libc.FutexWaitv.Entry entry = Libc.FutexWaitv.Entry.For(word, 1);
            Libc.FutexWaitv.Wait(&entry, 1, 0);
            return null;
        }
        catch (IOException e)
        {
            return e.Message;
        }
        finally
        {
            NativeMemory.Free(word);
        }
    }

    /// <summary>Adds a waiter; false when this reactor filled up meanwhile (take another).</summary>
    internal bool TryAdd(AsyncFutexWait waiter)
    {
        lock (_lock)
        {
            int free = Array.IndexOf(_waiters, null);
            if (free < 0)
            {
                return false;
            }

            _waiters[free] = waiter;
            _count++;
        }

        Poke();
        return true;
    }

    /// <summary>Takes a waiter out (cancellation); true when it was still here (the caller completes it).</summary>
    internal bool TryRemove(AsyncFutexWait waiter)
    {
        bool removed;
        lock (_lock)
        {
            int index = Array.IndexOf(_waiters, waiter);
            removed = index >= 0;
            if (removed)
            {
                _waiters[index] = null;
                _count--;
            }
        }

        if (removed)
        {
            Poke();
        }

        return removed;
    }

    /// <summary>Makes the reactor thread look at its waiters again.</summary>
    private void Poke()
    {
        Interlocked.Increment(ref *_control);
        Libc.Futex.Wake(_control, 1);
    }

    private void Run()
    {
        List<(AsyncFutexWait Waiter, FutexWake How)> done = [];
        while (true)
        {
            int n = 1;
            long deadline = long.MaxValue;
            lock (_lock)
            {
                _entries[0] = Libc.FutexWaitv.Entry.For(_control, Volatile.Read(ref *_control));
                long now = Stopwatch.GetTimestamp();
                for (int i = 0; i < _waiters.Length; i++)
                {
                    if (_waiters[i] is not { } w)
                    {
                        continue;
                    }

                    FutexWake? ended = Volatile.Read(ref *w.Address) != w.Expected ? FutexWake.Woken : now >= w.Deadline ? FutexWake.TimedOut : null;
                    if (ended is { } how)
                    {
                        _waiters[i] = null;
                        _count--;
                        done.Add((w, how));
                        continue;
                    }

                    _entries[n++] = Libc.FutexWaitv.Entry.For(w.Address, w.Expected);
                    deadline = Math.Min(deadline, w.Deadline);
                }
            }

            if (done.Count > 0)
            {
                foreach ((AsyncFutexWait w, FutexWake how) in done)
                {
                    w.Complete(how); // continuations run on the pool, never here
                }

                done.Clear();
                continue; // look again before sleeping: completing took time
            }

            // Stopwatch on Linux reads CLOCK_MONOTONIC in nanoseconds or a fixed multiple: its ticks convert to the kernel's clock.
            Libc.FutexWaitv.Wait(_entries, n, deadline == long.MaxValue ? -1 : Libc.Futex.TicksToNanos(deadline));
        }
    }
}

/// <summary>
/// One asynchronous futex wait at a time, reusable (an <see cref="IValueTaskSource{TResult}"/>: no allocation per wait
/// after the first). Owned by one waiter (an L4 thread, a channel end), which awaits each wait before starting the next.
/// </summary>
internal sealed unsafe class AsyncFutexWait : IValueTaskSource<FutexWake>
{
    private ManualResetValueTaskSourceCore<FutexWake> _core = new() { RunContinuationsAsynchronously = true };
    private FutexReactor? _reactor;
    private CancellationTokenRegistration _registration;
    private int _completed;

    internal int* Address { get; private set; }

    internal int Expected { get; private set; }

    internal long Deadline { get; private set; }

    /// <summary>Waits while <c>*address == expected</c>, until <paramref name="deadline"/> (Stopwatch ticks; long.MaxValue: none) or <paramref name="cancellationToken"/>.</summary>
    internal ValueTask<FutexWake> WaitAsync(nint address, int expected, long deadline, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromResult(FutexWake.Canceled);
        }

        _core.Reset();
        Address = (int*)address;
        Expected = expected;
        Deadline = deadline;
        _completed = 0;
        short version = _core.Version;

        // Registered before the add, so the completion below always disposes this wait's own registration. A
        // cancellation that fires before the add finds nothing to remove; the check after the add catches it.
        _registration = cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(static state => ((AsyncFutexWait)state!).Cancel(), this) : default;
        FutexReactor reactor;
        do
        {
            reactor = FutexReactor.Acquire();
            Volatile.Write(ref _reactor, reactor);
        }
        while (!reactor.TryAdd(this));

        if (cancellationToken.IsCancellationRequested)
        {
            Cancel();
        }

        return new ValueTask<FutexWake>(this, version);
    }

    /// <summary>The token fired: the wait ends as cancelled, unless the reactor completed it first.</summary>
    private void Cancel()
    {
        if (Volatile.Read(ref _reactor) is { } reactor && reactor.TryRemove(this))
        {
            Complete(FutexWake.Canceled);
        }
    }

    /// <summary>
    /// Completes the wait once. Disposing the registration first waits for a cancellation callback running on another
    /// thread right now (from inside the callback itself it does not wait), so no callback of this wait outlives it
    /// and touches the next one.
    /// </summary>
    internal void Complete(FutexWake how)
    {
        _registration.Dispose();
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            _core.SetResult(how);
        }
    }

    FutexWake IValueTaskSource<FutexWake>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<FutexWake>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<FutexWake>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
