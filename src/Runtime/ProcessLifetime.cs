using L4Rt.Interop;
using L4Rt.Ipc;

namespace L4Rt;

/// <summary>Ties a worker process's life to another process (pidfd-based, no polling).</summary>
public static class ProcessLifetime
{
    /// <summary>
    /// Runs <paramref name="onExit"/> (by default: exit with code 70) as soon as process <paramref name="pid"/>
    /// exits, however it ends (SIGKILL included). Use it in helper processes so none outlives its parent.
    /// </summary>
    public static void OnProcessExit(int pid, Action? onExit = null) =>
        PeerWatch.Instance.Register(pid, onExit ?? (() => Environment.Exit(70)));

    /// <summary>Exits this process (code 70) when its parent process exits.</summary>
    public static void ExitWhenParentExits() => OnProcessExit(Libc.Process.GetParentPid());
}
