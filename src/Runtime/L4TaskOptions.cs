using L4Rt.Protocol;

namespace L4Rt;

/// <summary>How <see cref="L4Task.ConnectAsync"/> reaches the broker.</summary>
public sealed class L4TaskOptions
{
    /// <summary>The broker's socket; by default <see cref="BrokerEndpoint.DefaultSocketPath"/>.</summary>
    public string SocketPath { get; set; } = BrokerEndpoint.DefaultSocketPath();

    /// <summary>A name for this task in the broker's status (default: the process name).</summary>
    public string Name { get; set; } = Environment.ProcessPath is { } p ? Path.GetFileNameWithoutExtension(p) : "task";

    /// <summary>How long to keep trying while no broker listens yet (default: do not wait).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How long the broker may take to answer the join once the socket is connected (default 10 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/>: no limit). A connection is queued even when the broker does not accept it
    /// (stopped with SIGSTOP, or wedged): without this bound <see cref="L4Task.ConnectAsync"/> would wait forever.
    /// </summary>
    public TimeSpan JoinTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
