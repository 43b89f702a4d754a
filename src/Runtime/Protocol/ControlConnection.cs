using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol;

/// <summary>
/// The SDK's end of the control socket: requests with ids and awaitable responses, notifications from the
/// broker handed to a callback, and one background reader that also notices a dead broker (EOF) and fails
/// every pending request with <see cref="L4Status.BrokerLost"/>.
/// </summary>
internal sealed class ControlConnection : IDisposable
{
    private readonly UnixSeqpacketSocket _socket;
    private readonly Lock _sendLock = new();
    private readonly ConcurrentDictionary<uint, Pending> _pending = new();
    private readonly Thread _reader;
    private int _nextId;
    private int _closed;
    private (L4Status Status, string Message)? _refusal;

    private ControlConnection(UnixSeqpacketSocket socket)
    {
        _socket = socket;
        _reader = new Thread(Run) { IsBackground = true, Name = "l4rt-control" };
    }

    /// <summary>Called on the reader thread for every notification (opcode, id, payload, descriptors it must own).</summary>
    internal Action<Opcode, uint, byte[], List<SafeFdHandle>>? Notification { get; set; }

    /// <summary>Called once when the broker is gone (EOF) and the connection was not closed by us.</summary>
    internal Action? Lost { get; set; }

    internal bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Connects, retrying every 10 ms without holding a thread while no broker listens yet, until <paramref name="timeout"/> or cancellation.</summary>
    internal static async Task<ControlConnection> ConnectAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            UnixSeqpacketSocket? socket = UnixSeqpacketSocket.TryConnect(path, out int errno);
            if (socket is not null)
            {
                ControlConnection connection = new(socket);
                connection._reader.Start();
                return connection;
            }

            if (DateTime.UtcNow >= deadline || (errno != Libc.Errno.ENOENT && errno != Libc.Errno.ECONNREFUSED))
            {
                throw new L4RtException(L4Status.BrokerLost, $"no broker answers at {path} ({Libc.ErrnoException("connect", errno).Message}); start l4rtd or set {BrokerEndpoint.SocketVariable}");
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    internal Task<ControlResponse> CallAsync(Opcode opcode, Payload? payload, SafeHandle[]? fds = null, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<ControlResponse>(cancellationToken); // nothing sent, nothing for the broker to hold
        }

        Pending pending = new(new TaskCompletionSource<ControlResponse>(TaskCreationOptions.RunContinuationsAsynchronously));
        uint id = Register(pending);
        SendRequest(id, pending, opcode, payload, fds);
        if (cancellationToken.CanBeCanceled)
        {
            // Registered only after the request is on the socket: a Cancel can then never overtake the request
            // it cancels (both go through the send lock, in order), so the broker always finds what it drops.
            // Kept and released when the answer comes: a long-lived token (a hosted service's stoppingToken)
            // would otherwise hold every request's callback until it is cancelled.
            pending.SetRegistration(cancellationToken.Register(() =>
            {
                if (_pending.TryRemove(id, out Pending? p))
                {
                    p.Source!.TrySetCanceled(cancellationToken);
                    if (opcode == Opcode.NameQuery)
                    {
                        SendCancel(id); // the broker holds a waiting query until told: let it go
                    }
                }
            }));
        }

        return pending.Source!.Task;
    }

    /// <summary>Tells the broker to drop a deferred request we stopped waiting for; its answer (if any) is ignored.</summary>
    private void SendCancel(uint cancelledId)
    {
        if (IsClosed)
        {
            return;
        }

        Payload payload = new();
        new Messages.Cancel.Request(cancelledId).Write(payload);
        try
        {
            lock (_sendLock)
            {
                _socket.Send(Payload.Frame(FrameKind.Request, Opcode.Cancel, (uint)Interlocked.Increment(ref _nextId), L4Status.Ok, payload.Span));
            }
        }
        catch (IOException)
        {
            // the connection is going: the broker drops the query with the task
        }
    }

    /// <summary>
    /// A blocking request for callers on a data-plane thread (first send on a gate, IRQ attach): the reader
    /// thread wakes the caller directly, with no thread-pool hop (which would add milliseconds under load).
    /// After <paramref name="timeout"/> it throws <see cref="L4Status.SendTimeout"/>; an answer that comes after that
    /// is handed to <paramref name="late"/> (on the reader thread: it must not block) so whatever the broker did for
    /// the call can be undone — without it, the late answer is dropped.
    /// </summary>
    internal ControlResponse Call(Opcode opcode, Payload? payload, TimeSpan timeout, SafeHandle[]? fds = null, Action<ControlResponse>? late = null)
    {
        Pending pending = new(null);
        bool abandoned = false;
        try
        {
            uint id = Register(pending);
            SendRequest(id, pending, opcode, payload, fds);
            if (!pending.Done!.Wait(timeout))
            {
                abandoned = late is not null && pending.Abandon(late);
                if (abandoned || (late is null && _pending.TryRemove(id, out _)))
                {
                    throw new L4RtException(L4Status.SendTimeout, $"the broker did not answer {opcode} within {timeout}");
                }

                pending.Done.Wait(); // the answer is being delivered right now
            }

            return pending.Result ?? throw pending.Error!;
        }
        finally
        {
            if (!abandoned)
            {
                pending.Dispose(); // an abandoned one is still completed by the reader, which must find its event alive
            }
        }
    }

    private uint Register(Pending pending)
    {
        uint id = (uint)Interlocked.Increment(ref _nextId);
        _pending[id] = pending;
        return id;
    }

    private void SendRequest(uint id, Pending pending, Opcode opcode, Payload? payload, SafeHandle[]? fds)
    {
        if (IsClosed)
        {
            Fail(id, pending);
            return;
        }

        try
        {
            lock (_sendLock)
            {
                _socket.Send(Payload.Frame(FrameKind.Request, opcode, id, L4Status.Ok, payload is null ? [] : payload.Span), fds ?? []);
            }
        }
        catch (IOException)
        {
            // The broker closed the connection. The reader reports why (a refusal frame may still be queued) and
            // fails every pending request at EOF; only if it has already finished must we fail this one ourselves.
            if (IsClosed)
            {
                Fail(id, pending);
            }
        }
    }

    /// <summary>Answers a notification (the broker waits for this before it completes a link or IRQ).</summary>
    internal void Acknowledge(Opcode opcode, uint id, L4Status status)
    {
        try
        {
            lock (_sendLock)
            {
                _socket.Send(Payload.Frame(FrameKind.Response, opcode, id, status, []));
            }
        }
        catch (IOException)
        {
            // the broker is gone; the reader reports it
        }
    }

    private void Fail(uint id, Pending pending)
    {
        _pending.TryRemove(id, out _);
        (L4Status status, string message) = _refusal ?? (L4Status.BrokerLost, "the broker connection is closed");
        pending.Complete(null, new L4RtException(status, message));
    }

    /// <summary>A request in flight: completed either through a task (async callers) or an event (blocking callers).</summary>
    private sealed class Pending(TaskCompletionSource<ControlResponse>? source) : IDisposable
    {
        internal TaskCompletionSource<ControlResponse>? Source { get; } = source;

        internal ManualResetEventSlim? Done { get; } = source is null ? new ManualResetEventSlim(false, spinCount: 0) : null;

        internal ControlResponse? Result { get; private set; }

        internal Exception? Error { get; private set; }

        private readonly Lock _gate = new();
        private CancellationTokenRegistration _registration;
        private Action<ControlResponse>? _late; // set when a blocking caller gave up (Abandon)
        private bool _completed;

        /// <summary>
        /// The async caller's cancellation callback. It is registered after the request is sent, so the answer may
        /// already have come: then it is released at once (a long-lived token must not keep finished requests).
        /// </summary>
        internal void SetRegistration(CancellationTokenRegistration registration)
        {
            lock (_gate)
            {
                if (!_completed)
                {
                    _registration = registration;
                    return;
                }
            }

            registration.Unregister();
        }

        internal void Complete(ControlResponse? result, Exception? error)
        {
            CancellationTokenRegistration registration;
            Action<ControlResponse>? late;
            lock (_gate)
            {
                _completed = true;
                registration = _registration;
                late = _late;
            }

            if (Source is not null)
            {
                registration.Unregister(); // does not wait for a callback running right now: the reader never blocks
                if (result is not null)
                {
                    Source.TrySetResult(result);
                }
                else
                {
                    Source.TrySetException(error!);
                }

                return;
            }

            if (late is not null)
            {
                if (result is not null)
                {
                    late(result); // the caller gave up: this answer is undone, not dropped
                }

                return;
            }

            Result = result;
            Error = error;
            Done!.Set();
        }

        /// <summary>The blocking caller gives up; an answer that still comes goes to <paramref name="late"/>. False if it is here already.</summary>
        internal bool Abandon(Action<ControlResponse> late)
        {
            lock (_gate)
            {
                if (_completed)
                {
                    return false;
                }

                _late = late;
                return true;
            }
        }

        public void Dispose() => Done?.Dispose();
    }

    private void Run()
    {
        byte[] buffer = new byte[ProtocolLimits.MaxFrameSize + 1];
        List<SafeFdHandle> fds = [];
        try
        {
            while (true)
            {
                fds = [];
                int length = _socket.Receive(buffer, fds);
                if (length == 0)
                {
                    break;
                }

                string? error = null;
                if (length < 0 || !FrameHeader.TryParse(buffer.AsSpan(0, length), out FrameHeader header, out error))
                {
                    // The broker never sends these; ignore rather than die, but a response whose request id can
                    // be read fails that request at once instead of leaving its caller waiting forever.
                    Dispose(fds);
                    if (length >= 12 && buffer[3] == (byte)FrameKind.Response
                        && _pending.TryRemove(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(8)), out Pending? unreadable))
                    {
                        unreadable.Complete(null, new L4RtException(L4Status.ProtocolViolation, $"the broker's reply could not be read: {error ?? "truncated frame"}"));
                    }

                    continue;
                }

                byte[] payload = buffer.AsSpan(FrameHeader.Size, header.PayloadLength).ToArray();
                if (header.Kind == FrameKind.Response)
                {
                    if (_pending.TryRemove(header.RequestId, out Pending? pending))
                    {
                        pending.Complete(new ControlResponse(header.Status, payload, fds), null);
                    }
                    else
                    {
                        if (header.RequestId == 0 && header.Status != L4Status.Ok)
                        {
                            FrameReader reader = new(payload);
                            _refusal = (header.Status, reader.Remaining > 2 ? reader.ReadString() : header.Status.ToString());
                        }

                        Dispose(fds); // answer to a cancelled request
                    }
                }
                else if (header.Kind == FrameKind.Notification && Notification is { } handler)
                {
                    handler(header.Opcode, header.RequestId, payload, fds);
                }
                else
                {
                    Dispose(fds);
                }
            }
        }
        catch (IOException)
        {
            // treated as EOF
        }

        bool closedByUs = Interlocked.Exchange(ref _closed, 1) != 0;
        foreach (uint id in _pending.Keys)
        {
            if (_pending.TryGetValue(id, out Pending? pending))
            {
                Fail(id, pending);
            }
        }

        if (!closedByUs)
        {
            Lost?.Invoke();
        }
    }

    private static void Dispose(List<SafeFdHandle> fds)
    {
        foreach (SafeFdHandle fd in fds)
        {
            fd.Dispose();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _socket.Shutdown();
            _reader.Join(TimeSpan.FromSeconds(5));
            _socket.Dispose();
        }
    }
}
