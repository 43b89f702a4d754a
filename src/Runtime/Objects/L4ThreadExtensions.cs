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
    private static readonly ConditionalWeakTable<L4Thread, object[]> s_received = new();

    extension(L4Thread thread)
    {
        /// <summary>The broker's capability to this thread (null for a thread not created through an <see cref="L4Task"/>).</summary>
        public Capability? Capability => s_capabilities.TryGetValue(thread, out Capability? capability) ? capability : null;
    }

    /// <summary>
    /// Asynchronous call through a gate (see <see cref="L4Thread.CallAsync(SendLink, MsgTag, L4Timeout, L4Timeout, CancellationToken)"/>):
    /// holds no thread while the server works. The first call of this thread on the gate sets up its link through the
    /// broker first (a short blocking round trip, as for <see cref="Call(L4Thread, Gate, MsgTag, L4Timeout, L4Timeout)"/>).
    /// </summary>
    public static ValueTask<IpcResult> CallAsync(this L4Thread thread, Gate gate, MsgTag tag, L4Timeout timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(thread);
        ArgumentNullException.ThrowIfNull(gate);
        L4Timeout receiveTimeout = timeout;
        return gate.TryGetLink(thread, ref timeout, out SendLink link, out L4Status status)
            ? thread.CallAsync(link, tag, timeout, receiveTimeout, cancellationToken)
            : ValueTask.FromResult(new IpcResult(status));
    }

    /// <summary>Records what the items of the message a thread received last delivered (capabilities and mappings, in item order).</summary>
    internal static void SetReceived(L4Thread thread, object[] items) => s_received.AddOrUpdate(thread, items);

    /// <summary>
    /// The capability that object item <paramref name="item"/> (0-based, in message order) of the message this thread
    /// received last delivered: already in this task's space, typed by its kind (<see cref="Gate"/>, <see cref="Dataspace"/>, …).
    /// Throws <see cref="InvalidOperationException"/> when that message had no such object item.
    /// </summary>
    public static Capability GetReceivedCapability(this L4Thread thread, int item) => Received<Capability>(thread, item, "an object item");

    /// <summary>As <see cref="GetReceivedCapability(L4Thread, int)"/>, expecting a <typeparamref name="T"/> (<see cref="L4Status.InvalidCapability"/> otherwise).</summary>
    public static T GetReceivedCapability<T>(this L4Thread thread, int item)
        where T : Capability => GetReceivedCapability(thread, item).As<T>($"received item {item}");

    /// <summary>
    /// The mapping that memory item <paramref name="item"/> (0-based, in message order) of the message this thread received
    /// last delivered into its receive window; the receiver owns it (dispose it to unmap). Throws
    /// <see cref="InvalidOperationException"/> when that message had no such memory item.
    /// </summary>
    public static DataspaceMapping GetReceivedMapping(this L4Thread thread, int item) => Received<DataspaceMapping>(thread, item, "a memory item");

    private static T Received<T>(L4Thread thread, int item, string what)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(thread);
        return s_received.TryGetValue(thread, out object[]? items) && (uint)item < (uint)items.Length && items[item] is T found
            ? found
            : throw new InvalidOperationException($"item {item} of the last message this thread received is not {what}");
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
