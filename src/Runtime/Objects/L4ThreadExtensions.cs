using System.Runtime.CompilerServices;
using L4Rt.Ipc;

namespace L4Rt.Objects;

/// <summary>
/// What an <see cref="L4Thread"/> does with capabilities: send and call through a <see cref="Gate"/>, and the
/// broker's capability to the thread itself. They live here, above the IPC layer, so <c>L4Rt.Ipc</c> knows
/// nothing of broker objects.
/// </summary>
public static class L4ThreadExtensions
{
    private static readonly ConditionalWeakTable<L4Thread, Capability> s_capabilities = new();

    extension(L4Thread thread)
    {
        /// <summary>The broker's capability to this thread (null for a thread not created through an <see cref="L4Task"/>).</summary>
        public Capability? Capability => s_capabilities.TryGetValue(thread, out Capability? capability) ? capability : null;
    }

    /// <summary>Records the broker's capability to a thread created through a task.</summary>
    internal static void SetCapability(L4Thread thread, Capability capability) => s_capabilities.AddOrUpdate(thread, capability);

    /// <summary>
    /// Sends through a gate (see <see cref="L4Thread.Send(SendLink, MsgTag, L4Timeout)"/>). The first send of this
    /// thread on the gate sets up the link through the broker, within <paramref name="timeout"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpcResult Send(this L4Thread thread, Gate gate, MsgTag tag, L4Timeout timeout)
    {
        ArgumentNullException.ThrowIfNull(thread);
        ArgumentNullException.ThrowIfNull(gate);
        return gate.TryGetLink(thread, ref timeout, out SendLink link, out L4Status status) ? thread.Send(link, tag, timeout) : new IpcResult(status);
    }

    /// <summary>Calls through a gate with one timeout for both phases.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpcResult Call(this L4Thread thread, Gate gate, MsgTag tag, L4Timeout timeout) => Call(thread, gate, tag, timeout, timeout);

    /// <summary>
    /// Calls through a gate (see <see cref="L4Thread.Call(SendLink, MsgTag, L4Timeout, L4Timeout)"/>). The first call of
    /// this thread on the gate sets up the link through the broker, within <paramref name="sendTimeout"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpcResult Call(this L4Thread thread, Gate gate, MsgTag tag, L4Timeout sendTimeout, L4Timeout receiveTimeout)
    {
        ArgumentNullException.ThrowIfNull(thread);
        ArgumentNullException.ThrowIfNull(gate);
        return gate.TryGetLink(thread, ref sendTimeout, out SendLink link, out L4Status status) ? thread.Call(link, tag, sendTimeout, receiveTimeout) : new IpcResult(status);
    }
}
