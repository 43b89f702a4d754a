using L4Rt.Bridge;
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
        PortB = BridgeLaunch.FreeLoopbackPort();
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
                    new { Name = "feed", Peers = new[] { "a" } },
                    new { Name = "news", Peers = new[] { "a" } },
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
                    new { Peer = "b", Address = $"https://127.0.0.1:{PortB}", Remote = "feed", Direction = "produce", Capacity = 1 << 16 },
                    new { Peer = "b", Address = $"https://127.0.0.1:{PortB}", Remote = "news", Direction = "consume", Capacity = 1 << 16 },
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
        ManagedProcess process = BridgeLaunch.Start(
            Path.Combine(ToolProcess.OutputOf(Path.Combine("src", "Bridge")), "l4rt-bridge.dll"),
            Path.Combine(Dir.Path, $"bridge-{name}-{_bridges.Count}.json"),
            name, socket, intruder ? Certificates.Intruder(name) : Certificates.For(name), Certificates.CaPath, settings, Detection,
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning", ["Logging__LogLevel__L4Rt"] = "Information", ["DOTNET_gcServer"] = "0" });
        _bridges.Add(process);
        _bridgesByName[name] = process;
        return process;
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
        Certificates.Dispose();
        Dir.Dispose();
    }
}

/// <summary>The bridges' CA and certificates (PEM files), plus an intruder's from a CA nobody trusts.</summary>
internal sealed class TestCertificates : IDisposable
{
    private readonly DevCertificates _trusted;
    private readonly DevCertificates _rogue;

    public TestCertificates(string dir)
    {
        _trusted = new DevCertificates(dir, "l4rt-test-ca");
        _rogue = new DevCertificates(dir, "l4rt-rogue-ca");
    }

    public string CaPath => _trusted.CaPath;

    public (string Cert, string Key) For(string name) => _trusted.Issue(name);

    public (string Cert, string Key) Intruder(string name) => _rogue.Issue(name, file: "rogue-" + name);

    public void Dispose()
    {
        _trusted.Dispose();
        _rogue.Dispose();
    }
}
