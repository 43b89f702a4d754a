using L4Rt.Objects;

namespace L4Rt.Bridge;

/// <summary>The bridge's settings (section <c>Bridge</c> of the configuration: appsettings.json, <c>--config FILE</c>, environment, command line).</summary>
public sealed class BridgeOptions
{
    /// <summary>This bridge's identity: the common name of its certificate, which peers allow-list.</summary>
    public string Name { get; set; } = "";

    /// <summary>The local broker's socket (default: the SDK's rules, <c>$L4RT_SOCKET</c> first).</summary>
    public string? SocketPath { get; set; }

    /// <summary>Where peers reach this bridge's exports, e.g. <c>https://0.0.0.0:7401</c> (HTTP/2 over TLS). None: export nothing.</summary>
    public string? Listen { get; set; }

    /// <summary>This bridge's certificate (PEM), used as server and as client certificate.</summary>
    public string CertificatePath { get; set; } = "";

    /// <summary>The certificate's private key (PEM).</summary>
    public string KeyPath { get; set; } = "";

    /// <summary>The CA (PEM) that signed every peer's certificate; nothing else is trusted.</summary>
    public string TrustedCaPath { get; set; } = "";

    /// <summary>Which local names are exported to which peers. Nothing is exported by default.</summary>
    public List<ExportRule> Exports { get; set; } = [];

    /// <summary>Which remote names are imported into the local name service.</summary>
    public List<ImportRule> Imports { get; set; } = [];

    /// <summary>A peer that says nothing for this long is gone: its imports end with <c>DestinationDeleted</c> (pings go every third of it).</summary>
    public TimeSpan DetectionTime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The send timeout of a bridged one-way send at the exporting side.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The most bytes of flexpages one bridged message may copy (callers opt in with <c>MsgTagFlags.CopyMemory</c>): the
    /// size of each imported gate's receive window, and what an exporter accepts per request. Whole pages, at most
    /// <see cref="MaxCopyBytesLimit"/> (a gRPC message's default limit is 4 MiB); 0: memory items are never copied.
    /// </summary>
    public long MaxCopyBytes { get; set; } = 1 << 20;

    /// <summary>The largest <see cref="MaxCopyBytes"/> allowed.</summary>
    public const long MaxCopyBytesLimit = 3 << 20;

    /// <summary>Every problem with these settings, one line each (empty when they are usable).</summary>
    public IReadOnlyList<string> Problems()
    {
        List<string> problems = [];
        if (string.IsNullOrWhiteSpace(Name))
        {
            problems.Add("Bridge:Name is required (this bridge's certificate common name)");
        }

        foreach ((string key, string path) in new[] { ("CertificatePath", CertificatePath), ("KeyPath", KeyPath), ("TrustedCaPath", TrustedCaPath) })
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                problems.Add($"Bridge:{key} is required");
            }
            else if (!File.Exists(path))
            {
                problems.Add($"Bridge:{key}: no file '{path}'");
            }
        }

        if (Listen is not null && !TryParseListen(Listen, out _, out _))
        {
            problems.Add($"Bridge:Listen '{Listen}' is not https://HOST:PORT");
        }

        if (DetectionTime < TimeSpan.FromMilliseconds(30) || DetectionTime > TimeSpan.FromMinutes(10))
        {
            problems.Add($"Bridge:DetectionTime {DetectionTime} is outside 30 ms..10 min");
        }

        if (MaxCopyBytes < 0 || MaxCopyBytes > MaxCopyBytesLimit || MaxCopyBytes % Objects.PageFault.PageSize != 0)
        {
            problems.Add($"Bridge:MaxCopyBytes {MaxCopyBytes} is not a whole number of pages within 0..{MaxCopyBytesLimit}");
        }

        if (SendTimeout < TimeSpan.Zero)
        {
            problems.Add("Bridge:SendTimeout must not be negative");
        }

        for (int i = 0; i < Exports.Count; i++)
        {
            ExportRule e = Exports[i];
            if (!NameService.IsValidName(e.Name))
            {
                problems.Add($"Bridge:Exports:{i}:Name '{e.Name}' is not a valid name");
            }

            if (e.Peers.Count == 0 || e.Peers.Any(string.IsNullOrWhiteSpace))
            {
                problems.Add($"Bridge:Exports:{i}:Peers must name at least one peer (the allow-list; nothing is exported to everyone)");
            }
        }

        if (Exports.Count > 0 && Listen is null)
        {
            problems.Add("Bridge:Exports needs Bridge:Listen (where peers reach the exports)");
        }

        for (int i = 0; i < Imports.Count; i++)
        {
            ImportRule r = Imports[i];
            if (string.IsNullOrWhiteSpace(r.Peer))
            {
                problems.Add($"Bridge:Imports:{i}:Peer is required (the exporting bridge's certificate common name)");
            }

            if (!Uri.TryCreate(r.Address, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttps)
            {
                problems.Add($"Bridge:Imports:{i}:Address '{r.Address}' is not an https:// address");
            }

            if (!NameService.IsValidName(r.Remote))
            {
                problems.Add($"Bridge:Imports:{i}:Remote '{r.Remote}' is not a valid name");
            }

            if (!string.Equals(r.Direction, "produce", StringComparison.OrdinalIgnoreCase) && !string.Equals(r.Direction, "consume", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"Bridge:Imports:{i}:Direction '{r.Direction}' is neither produce nor consume");
            }

            if (r.Capacity < 4096 || r.Capacity > (1L << 30))
            {
                problems.Add($"Bridge:Imports:{i}:Capacity {r.Capacity} is outside 4 KiB..1 GiB");
            }

            if (!NameService.IsValidName(r.LocalName))
            {
                problems.Add($"Bridge:Imports:{i}:Local '{r.LocalName}' is not a valid name");
            }
        }

        foreach (IGrouping<string, ImportRule> twice in Imports.GroupBy(r => r.LocalName).Where(g => g.Count() > 1))
        {
            problems.Add($"Bridge:Imports: the local name '{twice.Key}' is imported more than once");
        }

        return problems;
    }

    /// <summary>Host and port of <see cref="Listen"/>.</summary>
    internal static bool TryParseListen(string listen, out string host, out int port)
    {
        host = "";
        port = 0;
        if (!Uri.TryCreate(listen, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            return false;
        }

        host = uri.Host.Trim('[', ']');
        port = uri.Port;
        return port is > 0 and < 65536;
    }
}

/// <summary>A local name and the peers (certificate common names) allowed to import it.</summary>
public sealed class ExportRule
{
    /// <summary>The local name (a gate or an IRQ).</summary>
    public string Name { get; set; } = "";

    /// <summary>The peers allowed to import it.</summary>
    public List<string> Peers { get; set; } = [];
}

/// <summary>A remote name to import, and where.</summary>
public sealed class ImportRule
{
    /// <summary>The exporting bridge's certificate common name (checked on its server certificate).</summary>
    public string Peer { get; set; } = "";

    /// <summary>The exporting bridge's address, <c>https://HOST:PORT</c>.</summary>
    public string Address { get; set; } = "";

    /// <summary>The name at the exporter.</summary>
    public string Remote { get; set; } = "";

    /// <summary>The name it gets here (default <c>PEER/REMOTE</c>).</summary>
    public string? Local { get; set; }

    /// <summary>For a channel: <c>produce</c> (default: local clients produce, the remote side consumes) or <c>consume</c>.</summary>
    public string Direction { get; set; } = "produce";

    /// <summary>For a channel: the local ring's capacity in bytes (default 1 MiB).</summary>
    public long Capacity { get; set; } = 1 << 20;

    /// <summary>True when local clients produce into an imported channel.</summary>
    public bool LocalProduces => !string.Equals(Direction, "consume", StringComparison.OrdinalIgnoreCase);

    /// <summary>The effective local name.</summary>
    public string LocalName => string.IsNullOrEmpty(Local) ? $"{Peer}/{Remote}" : Local;
}
