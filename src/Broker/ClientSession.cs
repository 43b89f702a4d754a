using System.Runtime.InteropServices;
using L4Rt.Broker.Kernel;
using L4Rt.Interop;
using L4Rt.Protocol;
using Microsoft.Extensions.Logging;

namespace L4Rt.Broker;

/// <summary>
/// One connected client: a reader thread that validates every frame and hands requests to the kernel, and a
/// non-blocking sender (a client that stops reading is disconnected, it never stalls the broker). Socket EOF
/// is the task's death.
/// </summary>
internal sealed class ClientSession : IDisposable
{
    private readonly UnixSeqpacketSocket _socket;
    private readonly Kernel.Kernel _kernel;
    private readonly ILogger _log;
    private readonly Lock _sendLock = new();
    private readonly Action<ClientSession> _ended;
    private bool _closed;

    internal ClientSession(UnixSeqpacketSocket socket, Libc.Socket.UCred peer, Kernel.Kernel kernel, ILogger log, Action<ClientSession> ended)
    {
        _socket = socket;
        Peer = peer;
        _kernel = kernel;
        _log = log;
        _ended = ended;
    }

    internal Libc.Socket.UCred Peer { get; }

    /// <summary>The task created by this connection's Hello; set under the kernel lock.</summary>
    internal TaskObject? Task { get; set; }

    internal void Start()
    {
        Thread reader = new(Run) { IsBackground = true, Name = $"l4rtd-client-{Peer.Pid}" };
        reader.Start();
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
                    length = _socket.Receive(buffer, fds);
                }
                catch (IOException)
                {
                    break;
                }

                if (length == 0)
                {
                    break; // EOF: the task is gone
                }

                HandleFrame(length < 0 ? ReadOnlySpan<byte>.Empty : buffer.AsSpan(0, length), length < 0, fds);
            }
        }
        finally
        {
            foreach (SafeFdHandle fd in fds)
            {
                fd.Dispose();
            }

            _kernel.TaskDisconnected(this);
            Close();
            _socket.Dispose();
            _ended(this);
        }
    }

    private void HandleFrame(ReadOnlySpan<byte> frame, bool truncated, List<SafeFdHandle> fds)
    {
        FrameHeader header = default;
        string? error = truncated ? $"frame larger than {ProtocolLimits.MaxFrameSize} bytes (or too many descriptors)" : null;
        if (error is not null || !FrameHeader.TryParse(frame, out header, out error))
        {
            error ??= "malformed frame";
            BrokerLog.BadFrame(_log, Peer.Pid, error);
            DisposeAll(fds);
            uint id = frame.Length >= 12 ? BitConverter.ToUInt32(frame[8..12]) : 0;
            Respond(Opcode.Hello, id, Kernel.Reply.Error(L4Status.ProtocolViolation, error));
            return;
        }

        ReadOnlySpan<byte> payload = frame[FrameHeader.Size..];
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

        Reply reply;
        try
        {
            reply = _kernel.Handle(this, header, payload, fds);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug must cost one request, never the broker.
            BrokerLog.InternalError(_log, e, Peer.Pid);
            DisposeAll(fds);
            reply = Kernel.Reply.Error(L4Status.Aborted, "internal broker error: " + e.Message);
        }

        if (!reply.Deferred)
        {
            Respond(header.Opcode, header.RequestId, reply);
        }
    }

    private void Respond(Opcode opcode, uint requestId, Reply reply) =>
        Send(Payload.Frame(FrameKind.Response, opcode, requestId, reply.Status, reply.Payload is null ? [] : reply.Payload.Span), reply.Fds ?? []);

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
