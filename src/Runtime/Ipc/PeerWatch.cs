using L4Rt.Interop;

namespace L4Rt.Ipc;

/// <summary>
/// Notices the death of partner processes without a broker: one background thread polls a pidfd per
/// watched pid and runs the registered callbacks when that process exits (SIGKILL included). The broker
/// does the same job for its tasks from socket EOF; this watch also covers direct links.
/// A callback that is no longer wanted (its link was closed) is unregistered, so the watch keeps nothing alive;
/// a callback that throws is caught, so it can neither kill the process nor keep the other callbacks from running.
/// </summary>
internal sealed class PeerWatch
{
    private static readonly Lazy<PeerWatch> s_instance = new(() => new PeerWatch());

    private readonly Lock _lock = new();
    private readonly Dictionary<int, (SafeFdHandle Pidfd, List<Action> Callbacks)> _watched = [];
    private readonly SafeFdHandle _wakeup = Libc.Sys.CreateEventFd();

    private PeerWatch()
    {
        Thread thread = new(Run) { IsBackground = true, Name = "l4rt-peer-watch" };
        thread.Start();
    }

    internal static PeerWatch Instance => s_instance.Value;

    /// <summary>Exceptions thrown by callbacks so far (they are caught; this counts them, for tests and diagnostics).</summary>
    internal long CallbackFailures => Interlocked.Read(ref _callbackFailures);

    private long _callbackFailures;

    /// <summary>Runs <paramref name="onDeath"/> once when <paramref name="pid"/> exits (at once if it is already gone).</summary>
    internal void Register(int pid, Action onDeath)
    {
        lock (_lock)
        {
            if (_watched.TryGetValue(pid, out var entry))
            {
                entry.Callbacks.Add(onDeath);
                return;
            }

            SafeFdHandle? pidfd = Libc.Process.PidfdOpen(pid);
            if (pidfd is null)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static a => Instance.Run(a), onDeath, preferLocal: false);
                return;
            }

            _watched[pid] = (pidfd, [onDeath]);
        }

        Libc.Sys.SignalEventFd(_wakeup);
    }

    /// <summary>
    /// Forgets <paramref name="onDeath"/> for <paramref name="pid"/> (the same delegate target and method as registered);
    /// the pidfd is closed once no callback is left. A callback already running is not stopped.
    /// </summary>
    internal void Unregister(int pid, Action onDeath)
    {
        lock (_lock)
        {
            if (!_watched.TryGetValue(pid, out var entry))
            {
                return;
            }

            entry.Callbacks.Remove(onDeath);
            if (entry.Callbacks.Count > 0)
            {
                return;
            }

            _watched.Remove(pid);
            entry.Pidfd.Dispose(); // the poll loop rebuilds its set from _watched after the wake-up below
        }

        Libc.Sys.SignalEventFd(_wakeup);
    }

    /// <summary>Number of callbacks registered for <paramref name="pid"/> (tests).</summary>
    internal int CallbackCount(int pid)
    {
        lock (_lock)
        {
            return _watched.TryGetValue(pid, out var entry) ? entry.Callbacks.Count : 0;
        }
    }

    private void Run(Action callback)
    {
        try
        {
            callback();
        }
        catch (Exception e)
        {
            // A callback belongs to some link or endpoint; its failure must not take the process or the other callbacks with it.
            Interlocked.Increment(ref _callbackFailures);
            System.Diagnostics.Trace.TraceError($"l4rt: a peer-death callback threw: {e}");
        }
    }

    private void Run()
    {
        List<int> pids = [];
        Libc.Sys.PollFd[] fds = [];
        while (true)
        {
            lock (_lock)
            {
                pids.Clear();
                pids.AddRange(_watched.Keys);
                if (fds.Length != pids.Count + 1)
                {
                    fds = new Libc.Sys.PollFd[pids.Count + 1];
                }

                fds[0] = new Libc.Sys.PollFd { Fd = _wakeup.Fd, Events = Libc.Sys.POLLIN };
                for (int i = 0; i < pids.Count; i++)
                {
                    fds[i + 1] = new Libc.Sys.PollFd { Fd = _watched[pids[i]].Pidfd.Fd, Events = Libc.Sys.POLLIN };
                }
            }

            if (Libc.Sys.Poll(fds, -1) <= 0)
            {
                continue;
            }

            if (fds[0].Revents != 0)
            {
                Libc.Sys.DrainEventFd(_wakeup);
            }

            for (int i = 0; i < pids.Count; i++)
            {
                if (fds[i + 1].Revents == 0)
                {
                    continue;
                }

                List<Action> callbacks;
                lock (_lock)
                {
                    if (!_watched.Remove(pids[i], out var entry))
                    {
                        continue;
                    }

                    entry.Pidfd.Dispose();
                    callbacks = entry.Callbacks;
                }

                foreach (Action callback in callbacks)
                {
                    Run(callback);
                }
            }
        }
    }
}
