using System.Globalization;
using System.Runtime.InteropServices;
using L4Rt.Broker.Kernel;
using L4Rt.Interop;
using L4Rt.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace L4Rt.Broker;

/// <summary>
/// Accepts tasks on the control socket (uid-checked with SO_PEERCRED) and runs one session per task.
/// Stopping (SIGTERM) is idempotent: clients are told, regions are unmapped, the socket file is removed.
/// </summary>
internal sealed class BrokerService(IOptions<BrokerOptions> options, BrokerKernel kernel, FdBudget fds, ILogger<BrokerService> log, ILogger<ClientSession> sessionLog, IHostApplicationLifetime lifetime) : BackgroundService
{
    /// <summary>What a connection holds of the descriptor budget: its socket and one descriptor in flight in a request.</summary>
    private const int SessionFds = 1 + ProtocolLimits.MaxRequestFds;

    private readonly BrokerOptions _options = options.Value;
    private readonly Lock _lock = new();
    private readonly HashSet<ClientSession> _sessions = [];
    private UnixSeqpacketSocket? _listener;
    private SafeHandle? _spare;
    private Thread? _acceptor;
    private string _path = "";
    private int _stopped;
    private int _injectedEmfile = options.Value.Faults.AcceptEmfile;

    /// <summary>Binds before the host reports started (systemd readiness), so a bind failure fails the start.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _path = string.IsNullOrEmpty(_options.SocketPath) ? BrokerEndpoint.DefaultSocketPath() : _options.SocketPath;
        _listener = BrokerSocket.Bind(_path, log);
        kernel.Endpoint = (_path, EffectiveAllowedUids());
        _spare = OpenSpare();
        _ = new System.ComponentModel.Win32Exception(0).Message; // errno messages must not need an assembly load when descriptors run short
        if (_options.ParentPid > 0)
        {
            ProcessLifetime.OnProcessExit(_options.ParentPid, lifetime.StopApplication);
        }

        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        uint[] allowed = EffectiveAllowedUids();
        BrokerLog.Listening(log, _path, Environment.ProcessId, string.Join(',', allowed.Select(u => u.ToString(CultureInfo.InvariantCulture))));
        _acceptor = new(() => AcceptLoop(_listener!, allowed)) { IsBackground = true, Name = "l4rtd-accept" };
        _acceptor.Start();
        return Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>
    /// Accepts connections until the broker stops. Nothing ends this loop but stopping: a refused or failing
    /// connection costs that connection, a descriptor shortage (EMFILE) sheds the waiting connection with the
    /// spare descriptor, any other accept error backs off and retries.
    /// </summary>
    private uint[] EffectiveAllowedUids() => _options.AllowedUids.Length > 0 ? _options.AllowedUids : [Libc.Process.GetUid()];

    private void AcceptLoop(UnixSeqpacketSocket listener, uint[] allowed)
    {
        int delayMs = 0;
        while (Volatile.Read(ref _stopped) == 0)
        {
            UnixSeqpacketSocket? client;
            try
            {
                if (_injectedEmfile > 0 && listener.WaitReadable(-1) && _injectedEmfile-- > 0)
                {
                    throw Libc.ErrnoException("accept4 (injected)", EMFILE);
                }

                client = listener.Accept();
                delayMs = 0;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException && Volatile.Read(ref _stopped) != 0)
            {
                return;
            }
            catch (IOException e) when (e.HResult is EMFILE or ENFILE && _spare is not null)
            {
                ShedOne(listener);
                continue;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                delayMs = Math.Clamp(delayMs * 2, 10, 1000);
                BrokerLog.AcceptFailed(log, e, delayMs);
                Thread.Sleep(delayMs);
                continue;
            }

            if (client is null)
            {
                return; // listener shut down
            }

            try
            {
                Admit(client, allowed);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                BrokerLog.AcceptFailed(log, e, 0);
                client.Dispose();
            }
        }
    }

    private const int ENFILE = 23;
    private const int EMFILE = 24;

    /// <summary>Checks the peer's uid and the broker's limits, then starts a session (or refuses, saying why).</summary>
    private void Admit(UnixSeqpacketSocket client, uint[] allowed)
    {
        Libc.Socket.UCred peer = client.PeerCredentials;
        if (Array.IndexOf(allowed, peer.Uid) < 0)
        {
            BrokerLog.UidRefused(log, peer.Pid, peer.Uid);
            Refuse(client, L4Status.NoRights, $"uid {peer.Uid} may not use this broker");
            return;
        }

        int pending;
        lock (_lock)
        {
            pending = _sessions.Count(s => s.Task is null);
        }

        if (pending >= _options.MaxPendingConnections)
        {
            BrokerLog.ConnectionRefused(log, peer.Pid, $"{pending} connections have not joined yet");
            Refuse(client, L4Status.QuotaExceeded, $"the broker has {pending} connections that have not joined yet; try again later");
            return;
        }

        if (!fds.TryTake(SessionFds))
        {
            BrokerLog.ConnectionRefused(log, peer.Pid, "the descriptor budget is spent");
            Refuse(client, L4Status.QuotaExceeded, "the broker holds all the descriptors it can for tasks; try again when some are released");
            return;
        }

        ClientSession session = new(client, peer, kernel, sessionLog, _options.HelloTimeout, _options.Faults, Ended);
        lock (_lock)
        {
            _sessions.Add(session);
        }

        session.Start();
    }

    private static void Refuse(UnixSeqpacketSocket client, L4Status status, string reason)
    {
        try
        {
            client.TrySend(Payload.Frame(FrameKind.Response, Opcode.Hello, 0, status, new Payload().String(reason).Span));
        }
        catch (IOException)
        {
            // gone already: nothing to tell
        }

        client.Dispose();
    }

    /// <summary>
    /// Out of descriptors with a connection waiting: accept can only fail again until it is taken, so close
    /// the spare descriptor, take the connection, refuse it, and reopen the spare.
    /// </summary>
    private void ShedOne(UnixSeqpacketSocket listener)
    {
        _spare?.Dispose();
        _spare = null;
        try
        {
            if (listener.Accept(timeoutMs: 0) is { } client)
            {
                BrokerLog.ConnectionRefused(log, client.PeerCredentials.Pid, "the broker process is out of descriptors");
                Refuse(client, L4Status.QuotaExceeded, "the broker is out of descriptors; try again later");
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            BrokerLog.AcceptFailed(log, e, 10);
            Thread.Sleep(10);
        }
        finally
        {
            _spare = OpenSpare();
            if (_spare is null)
            {
                Thread.Sleep(50); // nothing to shed with until a descriptor is free: do not spin
            }
        }
    }

    private static SafeHandle? OpenSpare()
    {
        try
        {
            return File.OpenHandle("/dev/null");
        }
        catch (IOException)
        {
            return null;
        }
    }

    private void Ended(ClientSession session)
    {
        lock (_lock)
        {
            _sessions.Remove(session);
        }

        fds.Give(SessionFds);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        int tasks = kernel.TaskCount;
        try
        {
            _listener?.Shutdown(); // accept returns; only then is the socket closed under no one's feet
            _acceptor?.Join(TimeSpan.FromSeconds(2));
            _listener?.Dispose();
            _spare?.Dispose();
            kernel.Dispose(); // tells every task, marks their regions dead, unmaps
            ClientSession[] sessions;
            lock (_lock)
            {
                sessions = [.. _sessions];
            }

            foreach (ClientSession session in sessions)
            {
                session.Close();
            }
        }
        finally
        {
            if (_listener is not null && _path.Length > 0)
            {
                File.Delete(_path); // only our own socket: a failed start must not remove a live broker's
            }

            BrokerLog.Stopped(log, tasks, _path);
        }

        await base.StopAsync(cancellationToken);
    }
}
