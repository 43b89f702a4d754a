using System.Globalization;
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
internal sealed class BrokerService(IOptions<BrokerOptions> options, Kernel.Kernel kernel, ILogger<BrokerService> log, ILogger<ClientSession> sessionLog, IHostApplicationLifetime lifetime) : BackgroundService
{
    private readonly BrokerOptions _options = options.Value;
    private readonly Lock _lock = new();
    private readonly HashSet<ClientSession> _sessions = [];
    private UnixSeqpacketSocket? _listener;
    private Thread? _acceptor;
    private string _path = "";
    private int _stopped;

    /// <summary>Binds before the host reports started (systemd readiness), so a bind failure fails the start.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _path = string.IsNullOrEmpty(_options.SocketPath) ? BrokerEndpoint.DefaultSocketPath() : _options.SocketPath;
        _listener = BrokerSocket.Bind(_path, log);
        if (_options.ParentPid > 0)
        {
            ProcessLifetime.OnProcessExit(_options.ParentPid, lifetime.StopApplication);
        }

        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        uint[] allowed = _options.AllowedUids.Length > 0 ? _options.AllowedUids : [Libc.Process.GetUid()];
        BrokerLog.Listening(log, _path, Environment.ProcessId, string.Join(',', allowed.Select(u => u.ToString(CultureInfo.InvariantCulture))));
        _acceptor = new(() => AcceptLoop(_listener!, allowed)) { IsBackground = true, Name = "l4rtd-accept" };
        _acceptor.Start();
        return Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private void AcceptLoop(UnixSeqpacketSocket listener, uint[] allowed)
    {
        while (Volatile.Read(ref _stopped) == 0)
        {
            UnixSeqpacketSocket? client;
            try
            {
                client = listener.Accept();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException && Volatile.Read(ref _stopped) != 0)
            {
                return;
            }

            if (client is null)
            {
                return; // listener shut down
            }

            Libc.Socket.UCred peer = client.PeerCredentials;
            if (Array.IndexOf(allowed, peer.Uid) < 0)
            {
                BrokerLog.UidRefused(log, peer.Pid, peer.Uid);
                client.TrySend(Payload.Frame(FrameKind.Response, Opcode.Hello, 0, L4Status.NoRights,
                    new Payload().String($"uid {peer.Uid} may not use this broker").Span));
                client.Dispose();
                continue;
            }

            ClientSession session = new(client, peer, kernel, sessionLog, Ended);
            lock (_lock)
            {
                _sessions.Add(session);
            }

            session.Start();
        }
    }

    private void Ended(ClientSession session)
    {
        lock (_lock)
        {
            _sessions.Remove(session);
        }
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
