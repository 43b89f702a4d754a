using System.Runtime.InteropServices;
using L4Rt.Broker.Kernel;
using L4Rt.Interop;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace L4Rt.Broker;

/// <summary>
/// One connected client: a reader thread that validates every frame and hands requests to the kernel, and a
/// non-blocking sender (a client that stops reading is disconnected, it never stalls the broker). Socket EOF
/// is the task's death.
/// </summary>
internal sealed class ClientSession : ITaskPort, IDisposable
{
    private readonly UnixSeqpacketSocket _socket;
    private readonly BrokerKernel _kernel;
    private readonly ILogger _log;
    private readonly Lock _sendLock = new();
    private readonly Action<ClientSession> _ended;
    private readonly TimeSpan _helloTimeout;
    private readonly FaultInjection _faults;
    private Timer? _helloTimer;
    private bool _closed;

    internal ClientSession(UnixSeqpacketSocket socket, Libc.Socket.UCred peer, BrokerKernel kernel, ILogger log, TimeSpan helloTimeout, FaultInjection faults, Action<ClientSession> ended)
    {
        _socket = socket;
        Peer = peer;
        _kernel = kernel;
        _log = log;
        _helloTimeout = helloTimeout;
        _faults = faults;
        _ended = ended;
    }

    internal Libc.Socket.UCred Peer { get; }

    public int Pid => Peer.Pid;

    public uint Uid => Peer.Uid;

    /// <summary>The task created by this connection's Hello; set under the kernel lock.</summary>
    public TaskObject? Task { get; set; }

    /// <summary>Starts the reader thread; a client that has not joined (Hello) within the timeout is dropped.</summary>
    internal void Start()
    {
        _helloTimer = new Timer(_ => DropIfNotJoined(), null, _helloTimeout, Timeout.InfiniteTimeSpan);
        Thread reader = new(Run) { IsBackground = true, Name = $"l4rtd-client-{Peer.Pid}" };
        reader.Start();
    }

    private void DropIfNotJoined()
    {
        if (Task is null)
        {
            BrokerLog.Disconnecting(_log, Peer.Pid, $"it did not join (Hello) within {_helloTimeout.TotalSeconds:0.#} s");
            Close();
        }
    }

    /// <summary>Sends a frame without blocking; a client whose queue is full is disconnected.</summary>
    internal bool Send(ReadOnlySpan<byte> frame, ReadOnlySpan<SafeHandle> fds)
    {
        lock (_sendLock)
        {
            if (_closed)
            {
                return false;
            }

            bool sent;
            try
            {
                sent = _socket.TrySend(frame, fds);
            }
            catch (IOException)
            {
                sent = false;
            }

            if (!sent)
            {
                BrokerLog.Disconnecting(_log, Peer.Pid, "its control socket is full or closed");
                CloseLocked();
            }

            return sent;
        }
    }

    /// <summary>Ends the connection; the reader thread then releases the task.</summary>
    internal void Close()
    {
        lock (_sendLock)
        {
            CloseLocked();
        }
    }

    private void CloseLocked()
    {
        if (!_closed)
        {
            _closed = true;
            _socket.Shutdown();
        }
    }

    /// <summary>
    /// The session's reader. Nothing thrown here leaves the thread: a request that fails is answered with an
    /// error (see <see cref="HandleFrame"/>); anything else costs this client its connection, never the broker.
    /// </summary>
    private void Run()
    {
        byte[] buffer = new byte[ProtocolLimits.MaxFrameSize + 1];
        List<SafeFdHandle> fds = [];
        try
        {
            while (true)
            {
                fds.Clear();
                int length;
                try
                {
                    length = _socket.Receive(buffer, fds, ProtocolLimits.MaxRequestFds);
                }
                catch (IOException)
                {
                    break;
                }

                if (length == 0)
                {
                    break; // EOF: the task is gone
                }

                try
                {
                    HandleFrame(length < 0 ? ReadOnlySpan<byte>.Empty : buffer.AsSpan(0, length), length < 0, fds);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // Even answering with an error failed: this client cannot be served, the others can.
                    BrokerLog.SessionFailed(_log, e, Peer.Pid);
                    break;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            BrokerLog.SessionFailed(_log, e, Peer.Pid);
        }
        finally
        {
            End(fds);
        }
    }

    private void End(List<SafeFdHandle> fds)
    {
        DisposeAll(fds);
        _helloTimer?.Dispose();
        try
        {
            _kernel.TaskDisconnected(this);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            BrokerLog.SessionFailed(_log, e, Peer.Pid);
        }
        finally
        {
            Close();
            _socket.Dispose();
            _ended(this);
        }
    }

    private void HandleFrame(ReadOnlySpan<byte> frame, bool truncated, List<SafeFdHandle> fds)
    {
        FrameHeader header = default;
        string? error = truncated ? $"frame larger than {ProtocolLimits.MaxFrameSize} bytes or with more than {ProtocolLimits.MaxRequestFds} descriptor(s)" : null;
        if (error is not null || !FrameHeader.TryParse(frame, out header, out error))
        {
            error ??= "malformed frame";
            BrokerLog.BadFrame(_log, Peer.Pid, error);
            DisposeAll(fds);
            uint id = frame.Length >= 12 ? BitConverter.ToUInt32(frame[8..12]) : 0;
            Respond(Opcode.Hello, id, Kernel.Reply.Error(L4Status.ProtocolViolation, error));
            return;
        }

        try
        {
            HandleRequest(header, frame[FrameHeader.Size..], fds);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug must cost one request, never the broker: the client learns, the session goes on.
            BrokerLog.InternalError(_log, e, Peer.Pid);
            DisposeAll(fds);
            if (header.Kind == FrameKind.Request)
            {
                Respond(header.Opcode, header.RequestId, Kernel.Reply.Error(L4Status.Aborted, "internal broker error: " + e.Message));
            }
        }
    }

    private void HandleRequest(FrameHeader header, ReadOnlySpan<byte> payload, List<SafeFdHandle> fds)
    {
        switch (header.Kind)
        {
            case FrameKind.Response:
                DisposeAll(fds);
                _kernel.CompleteAck(this, header.RequestId, header.Status); // a task answering one of our notifications
                return;
            case FrameKind.Notification:
                DisposeAll(fds);
                Respond(header.Opcode, header.RequestId, Kernel.Reply.Error(L4Status.ProtocolViolation, "clients send requests, not notifications"));
                return;
        }

        Reply reply = _kernel.Handle(this, header, payload, fds);
        if (!reply.Deferred)
        {
            if (_faults.InSession(header.Opcode))
            {
                throw new InvalidOperationException($"injected session fault answering {header.Opcode}");
            }

            Respond(header.Opcode, header.RequestId, reply);
        }
    }

    /// <summary>Sends the response to a request (also a deferred one, from the kernel).</summary>
    public void Respond(Opcode opcode, uint requestId, Reply reply) => Send(ResponseFrame(opcode, requestId, reply, _log, Peer.Pid), reply.Fds ?? []);

    /// <summary>Sends a notification frame built from <paramref name="message"/>, with its descriptors.</summary>
    public bool Notify<T>(Opcode opcode, uint id, T message)
        where T : IControlMessage<T>
    {
        Payload payload = new();
        message.Write(payload);
        return Send(Payload.Frame(FrameKind.Notification, opcode, id, L4Status.Ok, payload.Span), message.Fds);
    }

    /// <summary>
    /// The response frame for <paramref name="reply"/>. Replies that grow with state are paged, so one too big
    /// for a frame is a broker bug: the client gets an error saying so, not a dropped connection or a dead broker.
    /// </summary>
    internal static byte[] ResponseFrame(Opcode opcode, uint requestId, Reply reply, ILogger log, int pid)
    {
        ReadOnlySpan<byte> payload = reply.Payload is null ? [] : reply.Payload.Span;
        if (payload.Length > ProtocolLimits.MaxFrameSize - FrameHeader.Size)
        {
            BrokerLog.ReplyTooLarge(log, opcode, payload.Length, pid);
            return Payload.Frame(FrameKind.Response, opcode, requestId, L4Status.Aborted,
                new Payload().String($"the broker's reply to {opcode} ({payload.Length} bytes) does not fit a frame").Span);
        }

        return Payload.Frame(FrameKind.Response, opcode, requestId, reply.Status, payload);
    }

    private static void DisposeAll(List<SafeFdHandle> fds)
    {
        foreach (SafeFdHandle fd in fds)
        {
            fd.Dispose();
        }

        fds.Clear();
    }

    public void Dispose() => Close();
}
