using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using L4Rt.Bridge.Wire;

namespace L4Rt.Bridge;

/// <summary>
/// The importing side for one exporting peer: one gRPC stream to it (mutual TLS; its server certificate must name the
/// peer), the names imported from it, pings every third of the detection time, and reconnection with backoff. When the
/// stream ends or the peer is silent for the detection time, every name imported from it becomes unavailable: callers
/// waiting get <c>DestinationDeleted</c> and the names leave the local name service until the peer is back.
/// </summary>
internal sealed partial class ImportLink : IAsyncDisposable
{
    private const int IdBits = 40;

    private readonly BridgeTask _bridge;
    private readonly PeerTrust _trust;
    private readonly BridgeOptions _options;
    private readonly string _address;
    private readonly ILogger _logger;
    private readonly ImportedName[] _names;
    private readonly CancellationTokenSource _stop = new();
    private System.Threading.Channels.Channel<ImportFrame>? _out;
    private long _nextId;
    private long _lastHeard;
    private Task? _run;
    private GateBridge.GateBridgeClient? _client;
    private CancellationToken _sessionToken;

    internal BridgeOptions Options => _options;

    /// <summary>The local gates that crossed to this peer as handles (reset when a stream ends).</summary>
    internal GateHandles Handles { get; }

    internal ImportLink(BridgeTask bridge, PeerTrust trust, BridgeOptions options, string peer, string address, IEnumerable<ImportRule> rules, ILogger logger)
    {
        _bridge = bridge;
        _trust = trust;
        _options = options;
        Peer = peer;
        _address = address;
        _logger = logger;
        _names = rules.Select((r, i) => new ImportedName(this, (uint)i, r, logger)).ToArray();
        Handles = new GateHandles(this, logger);
    }

    internal string Peer { get; }

    internal L4Task Task => _bridge.Task;

    internal IReadOnlyList<ImportedName> Names => _names;

    /// <summary>A call id that says which name it is for (outcomes are routed by it).</summary>
    internal ulong NextId(uint index) => ((ulong)index << IdBits) | ((ulong)Interlocked.Increment(ref _nextId) & ((1UL << IdBits) - 1));

    /// <summary>A channel stream to the exporter, on the current connection (it ends with it); null while the link is down.</summary>
    internal AsyncDuplexStreamingCall<ChannelFrame, ChannelFrame>? OpenStream() =>
        Volatile.Read(ref _out) is null || _client is not { } client ? null : client.Stream(cancellationToken: _sessionToken);

    /// <summary>Queues a frame for the exporter; false while the link is down.</summary>
    internal bool Post(ImportFrame frame) => Volatile.Read(ref _out) is { } o && o.Writer.TryWrite(frame);

    internal async Task StartAsync(CancellationToken ct)
    {
        foreach (ImportedName name in _names)
        {
            await name.StartAsync(ct).ConfigureAwait(false);
        }

        _run = RunAsync(_stop.Token);
    }

    private async Task RunAsync(CancellationToken ct)
    {
        TimeSpan backoff = TimeSpan.FromMilliseconds(100);
        bool loggedDown = false;
        while (!ct.IsCancellationRequested)
        {
            bool connected = false;
            try
            {
                connected = await SessionAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or IOException or HttpRequestException or OperationCanceledException or InvalidOperationException)
            {
                if (!ct.IsCancellationRequested && !loggedDown)
                {
                    LogLinkDown(_logger, Peer, _address, e is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : e.Message);
                    loggedDown = true;
                }
            }
            finally
            {
                Interlocked.Exchange(ref _out, null)?.Writer.TryComplete();
                _client = null;
                foreach (ImportedName name in _names)
                {
                    await name.SetUnavailableAsync($"the link to peer '{Peer}' is down").ConfigureAwait(false);
                }
            }

            if (connected)
            {
                backoff = TimeSpan.FromMilliseconds(100);
                loggedDown = false;
            }

            await System.Threading.Tasks.Task.Delay(backoff, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
        }
    }

    /// <summary>One connection, until it ends; true when it got as far as the Welcome.</summary>
    private async Task<bool> SessionAsync(CancellationToken stop)
    {
        using CancellationTokenSource session = CancellationTokenSource.CreateLinkedTokenSource(stop);
        CancellationToken ct = session.Token;
        using SocketsHttpHandler handler = new()
        {
            ConnectTimeout = _options.DetectionTime,
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        handler.SslOptions.ClientCertificates = [_trust.Certificate];
        handler.SslOptions.RemoteCertificateValidationCallback = _trust.ServerValidator(Peer);
        using GrpcChannel channel = GrpcChannel.ForAddress(_address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        GateBridge.GateBridgeClient client = new(channel);
        _client = client;
        _sessionToken = ct;
        using AsyncDuplexStreamingCall<ImportFrame, ExportFrame> call = client.Connect(cancellationToken: ct);

        System.Threading.Channels.Channel<ImportFrame> output = System.Threading.Channels.Channel.CreateBounded<ImportFrame>(
            new System.Threading.Channels.BoundedChannelOptions(4096) { SingleReader = true });
        Hello hello = new() { Version = ExportService.ProtocolVersion };
        hello.Names.AddRange(_names.Select(n => n.Remote));
        await call.RequestStream.WriteAsync(new ImportFrame { Hello = hello }, ct).ConfigureAwait(false);

        using CancellationTokenSource welcomeTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        welcomeTimeout.CancelAfter(_options.DetectionTime);
        if (!await call.ResponseStream.MoveNext(welcomeTimeout.Token).ConfigureAwait(false) || call.ResponseStream.Current.KindCase != ExportFrame.KindOneofCase.Welcome)
        {
            throw new InvalidOperationException("the exporter did not answer the Hello with a Welcome");
        }

        Welcome welcome = call.ResponseStream.Current.Welcome;
        for (int i = 0; i < _names.Length; i++)
        {
            if (i >= welcome.Grants.Count || !welcome.Grants[i].Exported)
            {
                LogNotExported(_logger, _names[i].Remote, Peer);
            }
        }

        LogLinkUp(_logger, Peer, _address);
        Touch();
        Volatile.Write(ref _out, output);
        Task writer = WriteAsync(output, call.RequestStream, ct);
        Task pinger = PingAsync(session, ct);
        try
        {
            while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            {
                Touch();
                ExportFrame frame = call.ResponseStream.Current;
                switch (frame.KindCase)
                {
                    case ExportFrame.KindOneofCase.Outcome:
                        ulong index = frame.Outcome.Id >> IdBits;
                        if (index < (ulong)_names.Length)
                        {
                            _names[index].Complete(frame.Outcome);
                        }

                        break;
                    case ExportFrame.KindOneofCase.Callback:
                        Handles.Enqueue(frame.Callback);
                        break;
                    case ExportFrame.KindOneofCase.NameState when frame.NameState.Name < _names.Length:
                        ImportedName name = _names[frame.NameState.Name];
                        if (frame.NameState.Available)
                        {
                            await name.SetAvailableAsync(frame.NameState.Kind, ct).ConfigureAwait(false);
                        }
                        else
                        {
                            await name.SetUnavailableAsync($"peer '{Peer}' lost '{name.Remote}'").ConfigureAwait(false);
                        }

                        break;
                }
            }
        }
        finally
        {
            await session.CancelAsync().ConfigureAwait(false);
            output.Writer.TryComplete();
            await System.Threading.Tasks.Task.WhenAll(writer, pinger).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await Handles.ResetAsync().ConfigureAwait(false); // the exporter's proxies ended with the stream
        }

        return true;
    }

    private void Touch() => Volatile.Write(ref _lastHeard, Stopwatch.GetTimestamp());

    private static async Task WriteAsync(System.Threading.Channels.Channel<ImportFrame> output, IClientStreamWriter<ImportFrame> requests, CancellationToken ct)
    {
        await foreach (ImportFrame frame in output.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            await requests.WriteAsync(frame, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Pings every third of the detection time; ends the session when nothing was heard for the whole of it.</summary>
    private async Task PingAsync(CancellationTokenSource session, CancellationToken ct)
    {
        TimeSpan every = _options.DetectionTime / 3;
        ulong nonce = 0;
        while (!ct.IsCancellationRequested)
        {
            await System.Threading.Tasks.Task.Delay(every, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (Stopwatch.GetElapsedTime(Volatile.Read(ref _lastHeard)) > _options.DetectionTime)
            {
                LogSilent(_logger, Peer, _options.DetectionTime.TotalMilliseconds);
                await session.CancelAsync().ConfigureAwait(false);
                return;
            }

            Post(new ImportFrame { Ping = new Ping { Nonce = ++nonce } });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            await _run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        foreach (ImportedName name in _names)
        {
            await name.DisposeAsync().ConfigureAwait(false);
        }

        Handles.Dispose();

        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "link to peer '{Peer}' at {Address} is up")]
    private static partial void LogLinkUp(ILogger logger, string peer, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "link to peer '{Peer}' at {Address} is down ({Reason}); retrying with backoff")]
    private static partial void LogLinkDown(ILogger logger, string peer, string address, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer '{Peer}' said nothing for {Ms} ms: the link is down")]
    private static partial void LogSilent(ILogger logger, string peer, double ms);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer '{Peer}' does not export '{Remote}' to this bridge")]
    private static partial void LogNotExported(ILogger logger, string remote, string peer);
}
