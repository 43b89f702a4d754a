using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace L4Rt.Shared;

/// <summary>
/// Starts an <c>l4rt-bridge</c> of this repository's build as a child process, the way the tests and the benchmark
/// harness run two hosts' worth of bridges on one machine: its settings written to a config file, then started and
/// waited for until it says it is ready.
/// </summary>
internal static class BridgeLaunch
{
    /// <summary>
    /// Writes <paramref name="settings"/> (the <c>Bridge</c> section: Listen, Exports, Imports, …) plus the bridge's
    /// identity, broker and certificates to <paramref name="configPath"/>, starts <paramref name="dll"/> with it, and
    /// returns once it is ready (killed and thrown for if it is not within a minute).
    /// </summary>
    internal static ManagedProcess Start(string dll, string configPath, string name, string socket, (string Cert, string Key) certificate, string caPath,
        object settings, TimeSpan? detection, IReadOnlyDictionary<string, string> environment)
    {
        Dictionary<string, object?> bridge = JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(settings))!;
        bridge["Name"] = name;
        bridge["SocketPath"] = socket;
        bridge["CertificatePath"] = certificate.Cert;
        bridge["KeyPath"] = certificate.Key;
        bridge["TrustedCaPath"] = caPath;
        if (detection is { } d)
        {
            bridge["DetectionTime"] = d.ToString("c", CultureInfo.InvariantCulture);
        }

        File.WriteAllText(configPath, JsonSerializer.Serialize(new { Bridge = bridge }));
        ManagedProcess process = ManagedProcess.Start("dotnet", [dll, "--config", configPath], environment);
        try
        {
            process.WaitForLine(l => l.Contains("' ready:", StringComparison.Ordinal), $"bridge {name} ready ({dll})", TimeSpan.FromSeconds(60));
            return process;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>A loopback TCP port free right now (for a bridge's Listen address).</summary>
    internal static int FreeLoopbackPort()
    {
        using TcpListener probe = new(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
