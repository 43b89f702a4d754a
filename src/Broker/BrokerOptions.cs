namespace L4Rt.Broker;

/// <summary>
/// l4rtd's settings: from appsettings.json, <c>L4RT_</c> environment variables (e.g. <c>L4RT_TaskQuotaBytes</c>)
/// and the command line (e.g. <c>--SocketPath /run/l4rt.sock</c>, <c>--AllowedUids:0 1000</c>).
/// </summary>
public sealed class BrokerOptions
{
    /// <summary>The control socket; empty means the default (L4RT_SOCKET, XDG_RUNTIME_DIR, /tmp/l4rt-$UID).</summary>
    public string SocketPath { get; set; } = "";

    /// <summary>The uids allowed to connect (checked with SO_PEERCRED); empty means only the broker's own uid.</summary>
    public uint[] AllowedUids { get; set; } = [];

    /// <summary>Byte quota of each task's root factory (shared regions the task causes).</summary>
    public long TaskQuotaBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Object quota of each task's root factory.</summary>
    public int TaskQuotaObjects { get; set; } = 4096;

    /// <summary>The most tasks connected at once.</summary>
    public int MaxTasks { get; set; } = 1024;

    /// <summary>If set, the broker shuts down cleanly when this process exits (for harnesses and tests that start it).</summary>
    public int ParentPid { get; set; }

    /// <summary>How long a receiving task has to acknowledge a new link or IRQ.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
