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

    /// <summary>
    /// The uids whose tasks see the whole broker in <c>l4rt status</c>; empty means only the broker's own uid.
    /// Every other task sees itself and the objects it created or holds a capability to.
    /// </summary>
    public uint[] OperatorUids { get; set; } = [];

    /// <summary>The most tasks connected at once.</summary>
    public int MaxTasks { get; set; } = 1024;

    /// <summary>If set, the broker shuts down cleanly when this process exits (for harnesses and tests that start it).</summary>
    public int ParentPid { get; set; }

    /// <summary>How long a receiving task has to acknowledge a new link or IRQ.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Descriptors each task may make the broker hold (threads' doorbells, links, IRQs, channels), counted like bytes and objects.</summary>
    public int TaskQuotaFds { get; set; } = 256;

    /// <summary>Descriptors kept free for the broker's own work (logging, loading code, accepting): tasks and connections never get them.</summary>
    public int ReservedFds { get; set; } = 64;

    /// <summary>The most connections at once that have not joined yet (sent Hello); more are refused.</summary>
    public int MaxPendingConnections { get; set; } = 64;

    /// <summary>How long a new connection has to join (send Hello) before it is dropped.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Fault injection for tests; empty in production.</summary>
    public FaultInjection Faults { get; set; } = new();
}

/// <summary>
/// Test hooks that make the broker fail on purpose, to prove a failure costs one request and not the broker
/// (e.g. <c>--Faults:Kernel:0 FactoryUsage</c>). Both lists are empty unless configured.
/// </summary>
public sealed class FaultInjection
{
    /// <summary>The first this many accepts fail as if the broker were out of descriptors (EMFILE).</summary>
    public int AcceptEmfile { get; set; }

    /// <summary>Requests with these opcodes (names, e.g. <c>FactoryUsage</c>) throw inside the kernel's handler.</summary>
    public string[] Kernel { get; set; } = [];

    /// <summary>Requests with these opcodes throw in the session after the kernel answered, before the reply is sent.</summary>
    public string[] Session { get; set; } = [];

    internal bool InKernel(L4Rt.Protocol.Opcode opcode) => Kernel.Length > 0 && Array.Exists(Kernel, n => string.Equals(n, opcode.ToString(), StringComparison.OrdinalIgnoreCase));

    internal bool InSession(L4Rt.Protocol.Opcode opcode) => Session.Length > 0 && Array.Exists(Session, n => string.Equals(n, opcode.ToString(), StringComparison.OrdinalIgnoreCase));
}
