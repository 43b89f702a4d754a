using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using L4Rt.Shared;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Bridge;

/// <summary>
/// Two hosts' worth of L4Rt on one machine: broker A and broker B (each with its own socket directory), bridge
/// <c>b</c> exporting from B and bridge <c>a</c> importing into A over loopback TCP with mutual TLS, and a server task
/// at B (<c>bridge-server</c> mode of the test child) registering <c>svc</c> and <c>svc-irq</c>. The certificates are
/// made here: a CA, one certificate per bridge, and an intruder's from a CA nobody trusts.
/// </summary>
internal sealed class BridgeHosts : IDisposable
{
    private readonly List<ManagedProcess> _bridges = [];
    private readonly Dictionary<string, ManagedProcess> _bridgesByName = [];

    public BridgeHosts(TimeSpan? detection = null, bool startServer = true)
    {
        Detection = detection ?? TimeSpan.FromSeconds(1);
        Certificates = new TestCertificates(Dir.Path);
        A = new BrokerProcess();
        B = new BrokerProcess();
        PortB = FreePort();
        try
        {
            if (startServer)
            {
                StartServer();
            }

            StartBridge("b", B.SocketPath, new
            {
                Listen = $"https://127.0.0.1:{PortB}",
                Exports = new object[]
                {
                    new { Name = "svc", Peers = new[] { "a" } },
                    new { Name = "svc-irq", Peers = new[] { "a" } },
                    new { Name = "only-for-c", Peers = new[] { "c" } },
                },
            });
            StartBridge("a", A.SocketPath, new
            {
                Imports = new object[]
                {
                    new { Peer = "b", Address = $"https://127.0.0.1:{PortB}", Remote = "svc" },
                    new { Peer = "b", Address = $"https://127.0.0.1:{PortB}", Remote = "svc-irq" },
                    new { Peer = "b", Address = $"https://127.0.0.1:{PortB}", Remote = "only-for-c" },
                    new { Peer = "b", Address = $"https://127.0.0.1:{PortB}", Remote = "not-exported" },
                },
            });
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public TempDir Dir { get; } = new();

    public TestCertificates Certificates { get; }

    public TimeSpan Detection { get; }

    /// <summary>The importing side's broker.</summary>
    public BrokerProcess A { get; }

    /// <summary>The exporting side's broker.</summary>
    public BrokerProcess B { get; }

    public int PortB { get; }

    public ChildProcess? Server { get; private set; }

    public ManagedProcess Bridge(string name) => _bridgesByName[name];

    /// <summary>(Re)starts the server at B.</summary>
    public ChildProcess StartServer()
    {
        Server?.Dispose();
        Server = ChildProcess.Start("bridge-server", B.SocketPath, "svc");
        Server.WaitForLine("READY");
        return Server;
    }

    /// <summary>Starts a bridge named <paramref name="name"/> (its certificate's CN) for <paramref name="socket"/>'s broker, with more settings.</summary>
    public ManagedProcess StartBridge(string name, string socket, object settings, bool intruder = false)
    {
        (string cert, string key) = intruder ? Certificates.Intruder(name) : Certificates.For(name);
        Dictionary<string, object?> bridge = JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(settings))!;
        bridge["Name"] = name;
        bridge["SocketPath"] = socket;
        bridge["CertificatePath"] = cert;
        bridge["KeyPath"] = key;
        bridge["TrustedCaPath"] = Certificates.CaPath;
        bridge["DetectionTime"] = Detection.ToString("c", CultureInfo.InvariantCulture);
        string config = Path.Combine(Dir.Path, $"bridge-{name}-{_bridges.Count}.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new { Bridge = bridge }));
        ManagedProcess process = ManagedProcess.Start(
            "dotnet",
            [Path.Combine(ToolProcess.OutputOf(Path.Combine("src", "Bridge")), "l4rt-bridge.dll"), "--config", config],
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning", ["Logging__LogLevel__L4Rt"] = "Information", ["DOTNET_gcServer"] = "0" });
        _bridges.Add(process);
        _bridgesByName[name] = process;
        process.WaitForLine(l => l.Contains("' ready:", StringComparison.Ordinal), $"bridge {name} ready", TimeSpan.FromSeconds(60));
        return process;
    }

    private static int FreePort()
    {
        using TcpListener probe = new(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        Server?.Dispose();
        foreach (ManagedProcess bridge in _bridges)
        {
            bridge.Dispose();
        }

        A.Dispose();
        B.Dispose();
        Dir.Dispose();
    }
}

/// <summary>A test CA and certificates it signs (PEM files), plus an untrusted CA's for an intruder.</summary>
internal sealed class TestCertificates
{
    private readonly string _dir;
    private readonly X509Certificate2 _ca;
    private readonly ECDsa _caKey;
    private readonly X509Certificate2 _rogueCa;
    private readonly ECDsa _rogueKey;

    public TestCertificates(string dir)
    {
        _dir = dir;
        (_ca, _caKey) = MakeCa("CN=l4rt-test-ca");
        (_rogueCa, _rogueKey) = MakeCa("CN=l4rt-rogue-ca");
        CaPath = Path.Combine(dir, "ca.pem");
        File.WriteAllText(CaPath, _ca.ExportCertificatePem());
    }

    public string CaPath { get; }

    public (string Cert, string Key) For(string name) => Issue(name, _ca, _caKey, name);

    public (string Cert, string Key) Intruder(string name) => Issue(name, _rogueCa, _rogueKey, "rogue-" + name);

    private (string Cert, string Key) Issue(string name, X509Certificate2 ca, ECDsa caKey, string file)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = new($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        SubjectAlternativeNameBuilder san = new();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        byte[] serial = RandomNumberGenerator.GetBytes(12);
        using X509Certificate2 issued = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2), serial);
        string cert = Path.Combine(_dir, $"{file}.pem");
        string keyPath = Path.Combine(_dir, $"{file}.key");
        File.WriteAllText(cert, issued.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (cert, keyPath);
    }

    private static (X509Certificate2, ECDsa) MakeCa(string subject)
    {
        ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = new(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return (request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(3)), key);
    }
}
