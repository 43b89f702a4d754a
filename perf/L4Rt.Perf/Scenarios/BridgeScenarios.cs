using System.Diagnostics;
using System.Text.Json;
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

    internal BridgePair(string root)
    {
        _certificates = new DevCertificates(_dir, "bench-ca");
        _a = new BrokerHost(root);
        _b = new BrokerHost(root);
        _server = WorkerProcess.Start("gate-echo", _b.SocketPath, "bench/svc");
        using (System.Net.Sockets.TcpListener probe = new(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            _port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        StartBridge(root, "b", _b.SocketPath, new { Listen = $"https://127.0.0.1:{_port}", Exports = new[] { new { Name = "bench/svc", Peers = new[] { "a" } } } });
        StartBridge(root, "a", _a.SocketPath, new { Imports = new[] { new { Peer = "b", Address = Address, Remote = "bench/svc", Local = "b/bench/svc" } } });
    }

    private string Address => $"https://127.0.0.1:{_port}";

    private void StartBridge(string root, string name, string socket, object settings)
    {
        (string cert, string key) = _certificates.Issue(name);
        Dictionary<string, object?> bridge = JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(settings))!;
        bridge["Name"] = name;
        bridge["SocketPath"] = socket;
        bridge["CertificatePath"] = cert;
        bridge["KeyPath"] = key;
        bridge["TrustedCaPath"] = _certificates.CaPath;
        string config = Path.Combine(_dir, $"{name}.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new { Bridge = bridge }));
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string dll = Path.Combine(root, "src", "Bridge", "bin", configuration, "net10.0", "l4rt-bridge.dll");
        ManagedProcess process = ManagedProcess.Start("dotnet", [dll, "--config", config], new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" });
        _bridges.Add(process);
        process.WaitForLine(l => l.Contains("' ready:", StringComparison.Ordinal), $"bridge {name} ready ({dll})", TimeSpan.FromSeconds(60));
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
        (string cert, string key) = _certificates.Issue("a", file: "a-unary");
        using System.Security.Cryptography.X509Certificates.X509Certificate2 pem = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(cert, key);
        using System.Security.Cryptography.X509Certificates.X509Certificate2 client = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(pem.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12), null);
        using SocketsHttpHandler handler = new();
        handler.SslOptions.ClientCertificates = [client];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true; // the harness talks to its own bridge
        using GrpcChannel channel = GrpcChannel.ForAddress(Address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        Probe.ProbeClient probe = new(channel);
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

    public async ValueTask DisposeAsync()
    {
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
