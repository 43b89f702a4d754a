using L4Rt.Interop;

namespace L4Rt.Protocol;

/// <summary>Where the broker's control socket lives, by the rules of DESIGN.md.</summary>
public static class BrokerEndpoint
{
    /// <summary>The environment variable that overrides the socket path for SDK and broker alike.</summary>
    public const string SocketVariable = "L4RT_SOCKET";

    /// <summary>
    /// <c>$L4RT_SOCKET</c>, else <c>$XDG_RUNTIME_DIR/l4rt/broker.sock</c>, else <c>/tmp/l4rt-$UID/broker.sock</c>.
    /// </summary>
    public static string DefaultSocketPath()
    {
        string? overridden = Environment.GetEnvironmentVariable(SocketVariable);
        if (!string.IsNullOrEmpty(overridden))
        {
            return overridden;
        }

        string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return !string.IsNullOrEmpty(runtime) && Directory.Exists(runtime)
            ? Path.Combine(runtime, "l4rt", "broker.sock")
            : Path.Combine("/tmp", $"l4rt-{Libc.Process.GetUid()}", "broker.sock");
    }
}
