using System.Diagnostics;
using System.Globalization;
using Grpc.Net.Client;
using L4Rt.Bridge;
using L4Rt.Bridge.Wire;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Shared;

namespace L4Rt.Perf.Scenarios;

/// <summary>
/// Two hosts' worth of L4Rt on this machine: broker A with bridge <c>a</c> importing, broker B with bridge <c>b</c>
/// exporting <c>bench/svc</c> (a gate-echo worker), mutual TLS on loopback. A bridged call (this process at A → bridge a
/// → bridge b → the server at B, and back) beside a plain gRPC unary call from this process to bridge b's Probe.Echo
/// over the same kind of connection (HTTP/2, TLS with client certificate): what the bridge adds to gRPC's own cost.
/// </summary>
internal sealed class BridgePair : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("l4rt-perf-bridge-").FullName;
    private readonly List<ManagedProcess> _bridges = [];
    private readonly DevCertificates _certificates;
    private readonly BrokerHost _a;
    private readonly BrokerHost _b;
    private readonly WorkerProcess _server;
    private readonly int _port;
    private L4Task? _client;
    private L4Task? _atB;
    private Channels.ChannelProducer? _feedAtA;
    private Channels.ChannelConsumer? _feedAtB;
    private GrpcChannel? _grpc;
    private System.Security.Cryptography.X509Certificates.X509Certificate2? _clientCertificate;
    private SocketsHttpHandler? _handler;

    internal BridgePair(string root)
    {
        _certificates = new DevCertificates(_dir, "bench-ca");
        _a = new BrokerHost(root);
        _b = new BrokerHost(root);
        _server = WorkerProcess.Start("gate-echo", _b.SocketPath, "bench/svc");
        _port = BridgeLaunch.FreeLoopbackPort();

        StartBridge(root, "b", _b.SocketPath, new { Listen = $"https://127.0.0.1:{_port}", Exports = new[] { new { Name = "bench/svc", Peers = new[] { "a" } }, new { Name = "bench/feed", Peers = new[] { "a" } } } });
        StartBridge(root, "a", _a.SocketPath, new
        {
            Imports = new object[]
            {
                new { Peer = "b", Address = Address, Remote = "bench/svc", Local = "b/bench/svc" },
                new { Peer = "b", Address = Address, Remote = "bench/feed", Local = "b/bench/feed", Direction = "produce", Capacity = 1 << 20 },
            },
        });
    }

    /// <summary>The harness's bridge group: rounds of bridged call vs plain unary and bridged FIFO vs plain stream, order alternating.</summary>
    internal static async Task<List<Metric>> RunGroupAsync(string root, bool quick, Action<string> progress)
    {
        List<Metric> metrics = [];
        await using BridgePair bridges = new(root);

        int bridgeCount = quick ? 1000 : 3000;
        List<double> bridgedMedians = [], unaryMedians = [], bridgeRatios = [];
        List<double> bridgedAll = [], unaryAll = [];
        for (int round = 0; round < (quick ? 3 : 5); round++)
        {
            (double[] bridged, double[] unary) = await Alternating(round, () => bridges.BridgedCallUs(bridgeCount), () => bridges.UnaryCallUs(bridgeCount));

            bridgedMedians.Add(new Stats(bridged).Median);
            unaryMedians.Add(new Stats(unary).Median);
            bridgeRatios.Add(bridgedMedians[^1] / unaryMedians[^1]);
            bridgedAll.AddRange(bridged);
            unaryAll.AddRange(unary);
            progress(string.Create(CultureInfo.InvariantCulture, $"bridge round {round + 1}: bridged call {bridgedMedians[^1]:0.0} µs, gRPC unary {unaryMedians[^1]:0.0} µs"));
        }

        metrics.Add(new Metric("bridged_call_rtt_us", "µs", new Stats([.. bridgedMedians]).Median, new Stats([.. bridgedAll]).P99, [.. bridgedMedians],
            $"Call RTT, 8 words, through two gate bridges: a client at broker A → bridge a → gRPC stream (HTTP/2, mutual TLS, loopback) → bridge b → a server at broker B, and back (n={bridgeCount} per round)",
            "grpc_unary_rtt_us", new Stats([.. bridgeRatios]).Median, [.. bridgeRatios], 1.2));
        long fifoBytes = quick ? 256L << 20 : 1L << 30;
        List<double> bridgedFifo = [], grpcStream = [], fifoRatios = [];
        for (int round = 0; round < (quick ? 3 : 5); round++)
        {
            (double b, double g) = await Alternating(round, () => bridges.BridgedFifoGbps(fifoBytes), () => bridges.GrpcStreamGbps(fifoBytes));

            bridgedFifo.Add(b);
            grpcStream.Add(g);
            fifoRatios.Add(b / g);
            progress(string.Create(CultureInfo.InvariantCulture, $"bridge FIFO round {round + 1}: bridged {b:0.000} GB/s, gRPC stream {g:0.000} GB/s"));
        }

        metrics.Add(new Metric("bridged_fifo_64k_gbps", "GB/s", new Stats([.. bridgedFifo]).Median, bridgedFifo.Min(), [.. bridgedFifo],
            $"FIFO 64 KiB records through two gate bridges: written at broker A into the imported channel, read at broker B from the real one (1 MiB rings, {fifoBytes >> 20} MiB per round; p99 column: the slowest round)",
            "grpc_stream_64k_gbps", new Stats([.. fifoRatios]).Median, [.. fifoRatios], LowerIsBetter: false));
        metrics.Add(new Metric("grpc_stream_64k_gbps", "GB/s", new Stats([.. grpcStream]).Median, grpcStream.Min(), [.. grpcStream],
            $"plain gRPC client stream of 64 KiB blocks from this process to bridge b (same endpoint and TLS), {fifoBytes >> 20} MiB per round (p99 column: the slowest round)", LowerIsBetter: false));
        metrics.Add(new Metric("grpc_unary_rtt_us", "µs", new Stats([.. unaryMedians]).Median, new Stats([.. unaryAll]).P99, [.. unaryMedians],
            $"plain gRPC unary call, 8 words, from this process to bridge b (same endpoint: HTTP/2, mutual TLS, loopback), n={bridgeCount} per round"));

        return metrics;
    }

    // Scenario and baseline of one round, the order alternating from round to round.
    private static async Task<(T Scenario, T Baseline)> Alternating<T>(int round, Func<Task<T>> scenario, Func<Task<T>> baseline)
    {
        if (round % 2 == 0)
        {
            T first = await scenario();
            return (first, await baseline());
        }

        T b = await baseline();
        return (await scenario(), b);
    }

    private string Address => $"https://127.0.0.1:{_port}";

    private void StartBridge(string root, string name, string socket, object settings)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        _bridges.Add(BridgeLaunch.Start(
            Path.Combine(root, "src", "Bridge", "bin", configuration, "net10.0", "l4rt-bridge.dll"), Path.Combine(_dir, $"{name}.json"),
            name, socket, _certificates.Issue(name), _certificates.CaPath, settings, detection: null,
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" }));
    }

    /// <summary>Bridged calls of 8 words, µs each (after a warm-up).</summary>
    internal async Task<double[]> BridgedCallUs(int count)
    {
        _client ??= await _a.ConnectAsync("bench-bridge-client");
        Gate gate = await _client.Names.QueryAsync<Gate>("b/bench/svc", TimeSpan.FromSeconds(60));
        using L4Thread me = new();
        MsgTag tag = new(1, 8);
        double[] us = new double[count];
        for (int i = -200; i < count; i++)
        {
            me.Utcb.Mr[0] = (ulong)i;
            long start = Stopwatch.GetTimestamp();
            IpcResult r = me.Call(gate, tag, L4Timeout.FromSeconds(10));
            long end = Stopwatch.GetTimestamp();
            if (!r.IsOk)
            {
                throw new InvalidOperationException($"bridged call failed: {r.Status}");
            }

            if (i >= 0)
            {
                us[i] = (end - start) * 1e6 / Stopwatch.Frequency;
            }
        }

        return us;
    }

    /// <summary>Plain gRPC unary calls of 8 words to bridge b (client certificate "a"), µs each.</summary>
    internal async Task<double[]> UnaryCallUs(int count)
    {
        Probe.ProbeClient probe = new(Grpc());
        EchoMessage request = new();
        request.Words.AddRange(new ulong[8]);
        double[] us = new double[count];
        for (int i = -200; i < count; i++)
        {
            request.Words[0] = (ulong)Math.Max(i, 0);
            long start = Stopwatch.GetTimestamp();
            EchoMessage reply = await probe.EchoAsync(request);
            long end = Stopwatch.GetTimestamp();
            if (reply.Words.Count != 8)
            {
                throw new InvalidOperationException("unary echo answered the wrong number of words");
            }

            if (i >= 0)
            {
                us[i] = (end - start) * 1e6 / Stopwatch.Frequency;
            }
        }

        return us;
    }

    /// <summary>One gRPC connection to bridge b with the client certificate "a" (as bridge a uses), for the plain baselines.</summary>
    private GrpcChannel Grpc()
    {
        if (_grpc is null)
        {
            (string cert, string key) = _certificates.Issue("a", file: "a-plain");
            _clientCertificate = PemCertificate.Load(cert, key);
            _handler = new SocketsHttpHandler();
            _handler.SslOptions.ClientCertificates = [_clientCertificate];
            _handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true; // the harness talks to its own bridge
            _grpc = GrpcChannel.ForAddress(Address, new GrpcChannelOptions { HttpHandler = _handler, DisposeHttpClient = false });
        }

        return _grpc;
    }

    /// <summary>
    /// Bridged FIFO: 64 KiB records written at A into the imported <c>b/bench/feed</c>, read at B from the real channel
    /// (1 MiB rings on both hosts); GB/s from the first write until B has read <paramref name="bytes"/>. The stream stays
    /// open across rounds (a bridged channel carries one stream).
    /// </summary>
    internal async Task<double> BridgedFifoGbps(long bytes)
    {
        const int Record = 64 * 1024;
        if (_feedAtA is null)
        {
            _atB = await _b.ConnectAsync("bench-bridge-b");
            Channel feed = await _atB.Factory.CreateChannelAsync(1 << 20);
            _feedAtB = await feed.OpenConsumerAsync();
            await _atB.Names.RegisterAsync("bench/feed", feed, L4Rt.Protocol.CapRights.Send | L4Rt.Protocol.CapRights.Map | L4Rt.Protocol.CapRights.Read | L4Rt.Protocol.CapRights.Write);
            _client ??= await _a.ConnectAsync("bench-bridge-client");
            Channel imported = await _client.Names.QueryAsync<Channel>("b/bench/feed", TimeSpan.FromSeconds(60));
            _feedAtA = await imported.OpenProducerAsync();
        }

        long records = bytes / Record;
        Channels.ChannelConsumer consumer = _feedAtB!;
        Task<long> reading = Task.Run(() =>
        {
            long got = 0;
            for (long i = 0; i < records; i++)
            {
                if (consumer.Read(L4Timeout.FromSeconds(30), out ReadOnlySpan<byte> record) != L4Status.Ok)
                {
                    throw new InvalidOperationException("bridged FIFO read failed");
                }

                got += record.Length;
                consumer.Release();
            }

            return got;
        });
        byte[] data = new byte[Record];
        long start = Stopwatch.GetTimestamp();
        for (long i = 0; i < records; i++)
        {
            data[0] = (byte)i;
            if (await _feedAtA.WriteAsync(data) != L4Status.Ok)
            {
                throw new InvalidOperationException("bridged FIFO write failed");
            }
        }

        long read = await reading;
        return read / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9;
    }

    /// <summary>Plain gRPC client stream of 64 KiB blocks to bridge b's Probe.Sink, GB/s until its total comes back.</summary>
    internal async Task<double> GrpcStreamGbps(long bytes)
    {
        Probe.ProbeClient probe = new(Grpc());
        Google.Protobuf.ByteString block = Google.Protobuf.ByteString.CopyFrom(new byte[64 * 1024]);
        long blocks = bytes / block.Length;
        long start = Stopwatch.GetTimestamp();
        using Grpc.Core.AsyncClientStreamingCall<Block, SinkTotal> call = probe.Sink();
        for (long i = 0; i < blocks; i++)
        {
            await call.RequestStream.WriteAsync(new Block { Data = block });
        }

        await call.RequestStream.CompleteAsync();
        SinkTotal total = await call;
        return total.Bytes / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9;
    }

    public async ValueTask DisposeAsync()
    {
        _feedAtA?.Dispose();
        _feedAtB?.Dispose();
        if (_atB is not null)
        {
            await _atB.DisposeAsync();
        }

        _grpc?.Dispose();
        _handler?.Dispose();
        _clientCertificate?.Dispose();
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        foreach (ManagedProcess bridge in _bridges)
        {
            bridge.Dispose();
        }

        _server.Dispose();
        _a.Dispose();
        _b.Dispose();
        _certificates.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }

    }
}
