using System.Net;
using L4Rt;
using L4Rt.Bridge;
using L4Rt.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

// l4rt-bridge: exports chosen local names to bridges on other hosts and imports theirs, over gRPC with mutual TLS.
//   l4rt-bridge --config bridge.json        (section "Bridge"; see README.md)
// Exit codes: 0 stopped cleanly; 1 start-up failed or the local broker was lost; 2 usage error.

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        l4rt-bridge — a gate bridge between L4Rt brokers on different hosts (gRPC over HTTP/2, mutual TLS)

        Usage: l4rt-bridge [--config FILE] [--Bridge:Setting value]...
               l4rt-bridge certs --out DIR NAME... [--host HOST]...
          --config FILE   a JSON file with a "Bridge" section (also read: appsettings.json, L4RT_BRIDGE_* variables)
          certs           make a development CA and a certificate per bridge NAME (its CN) in DIR, for trying
                          bridges out; SAN localhost, 127.0.0.1 and each HOST. Use your own PKI in production.
        Settings: Name, SocketPath, Listen, CertificatePath, KeyPath, TrustedCaPath, DetectionTime, SendTimeout,
                  Exports:N:Name, Exports:N:Peers:M, Imports:N:Peer, Imports:N:Address, Imports:N:Remote, Imports:N:Local
        Exit codes: 0 stopped cleanly, 1 start-up failed or the local broker was lost, 2 usage error.
        """);
    return 0;
}

if (args.Length > 0 && args[0] == "certs")
{
    return MakeCertificates(args[1..]);
}

List<string> rest = [.. args];
string? configFile = null;
int at = rest.IndexOf("--config");
if (at >= 0)
{
    if (at + 1 >= rest.Count)
    {
        Console.Error.WriteLine("l4rt-bridge: --config needs a file");
        return 2;
    }

    configFile = Path.GetFullPath(rest[at + 1]);
    rest.RemoveRange(at, 2);
    if (!File.Exists(configFile))
    {
        Console.Error.WriteLine($"l4rt-bridge: no config file '{configFile}'");
        return 2;
    }
}

WebApplicationBuilder builder = WebApplication.CreateBuilder([.. rest]);
if (configFile is not null)
{
    builder.Configuration.AddJsonFile(configFile, optional: false);
}

builder.Configuration.AddEnvironmentVariables("L4RT_BRIDGE_");
builder.Configuration.AddCommandLine([.. rest]);
IConfigurationSection section = builder.Configuration.GetSection("Bridge");
BridgeOptions options = new();
try
{
    section.Bind(options);
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"l4rt-bridge: {e.Message}");
    return 2;
}

IReadOnlyList<string> problems = options.Problems();
if (problems.Count > 0)
{
    foreach (string problem in problems)
    {
        Console.Error.WriteLine($"l4rt-bridge: {problem}");
    }

    return 2;
}

PeerTrust trust;
try
{
    trust = PeerTrust.Load(options);
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"l4rt-bridge: {e.Message}");
    return 1;
}

using (trust)
{
    builder.Services.Configure<BridgeOptions>(section);
    builder.Services.AddSingleton(trust);
    builder.Services.AddL4Rt(o =>
    {
        if (options.SocketPath is { Length: > 0 } socket)
        {
            o.SocketPath = socket;
        }

        o.Name = $"l4rt-bridge:{options.Name}";
    });
    builder.Services.AddSingleton<BridgeTask>();
    builder.Services.AddHostedService(sp => sp.GetRequiredService<BridgeTask>());
    builder.Services.AddSingleton<Importer>();
    builder.Services.AddHostedService(sp => sp.GetRequiredService<Importer>());
    builder.Services.AddGrpc();
    builder.WebHost.ConfigureKestrel(kestrel =>
    {
        kestrel.AddServerHeader = false;
        if (options.Listen is not { } listen)
        {
            return; // import only: no server at all (see below)
        }

        BridgeOptions.TryParseListen(listen, out string host, out int port);
        void Https(ListenOptions l)
        {
            l.Protocols = HttpProtocols.Http2;
            l.UseHttps(https =>
            {
                https.ServerCertificate = trust.Certificate;
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (certificate, _, _) => trust.Verify(certificate, out _) is not null;
            });
        }

        if (host == "localhost")
        {
            kestrel.ListenLocalhost(port, Https);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(host), port, Https);
        }
    });

    if (options.Listen is null)
    {
        builder.Services.AddSingleton<Microsoft.AspNetCore.Hosting.Server.IServer, NoServer>();
    }

    WebApplication app = builder.Build();
    app.MapGrpcService<ExportService>();
    app.MapGrpcService<ProbeService>();
    try
    {
        await app.StartAsync().ConfigureAwait(false);
    }
    catch (Exception e) when (e is IOException or OptionsValidationException or L4RtException or OperationCanceledException or InvalidOperationException)
    {
        Console.Error.WriteLine($"l4rt-bridge: {e.Message}");
        return 1;
    }

    Console.WriteLine($"l4rt-bridge: '{options.Name}' ready: {options.Exports.Count} export rule(s){(options.Listen is { } l ? $" on {l}" : "")}, {options.Imports.Count} import(s)");
    await app.WaitForShutdownAsync().ConfigureAwait(false);
    await app.DisposeAsync().ConfigureAwait(false);
}

return Environment.ExitCode;

static int MakeCertificates(string[] args)
{
    string? dir = null;
    List<string> names = [], hosts = [];
    for (int i = 0; i < args.Length; i++)
    {
        if (args[i] is "--out" or "--host")
        {
            if (i + 1 >= args.Length)
            {
                Console.Error.WriteLine($"l4rt-bridge: {args[i]} needs a value");
                return 2;
            }

            if (args[i] == "--out")
            {
                dir = args[i + 1];
            }
            else
            {
                hosts.Add(args[i + 1]);
            }

            i++;
        }
        else if (args[i].StartsWith('-'))
        {
            Console.Error.WriteLine($"l4rt-bridge: unknown option '{args[i]}' for certs (--out DIR, --host HOST)");
            return 2;
        }
        else
        {
            names.Add(args[i]);
        }
    }

    if (dir is null || names.Count == 0)
    {
        Console.Error.WriteLine("l4rt-bridge: usage: l4rt-bridge certs --out DIR NAME... [--host HOST]...");
        return 2;
    }

    using DevCertificates certificates = new(dir, keepCaKey: false);
    Console.WriteLine($"CA:   {certificates.CaPath}");
    foreach (string name in names)
    {
        (string cert, string key) = certificates.Issue(name, hosts);
        Console.WriteLine($"{name}: {cert} {key}");
    }

    return 0;
}
