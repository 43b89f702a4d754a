using L4Rt.Interop;

namespace L4Rt.Memory;

/// <summary>
/// The Dekker handshakes between the two ends of a channel (publish the position, then read the other side's waiter
/// flag; raise the waiter flag, then re-read the position) need a full barrier between the store and the load on both
/// sides. With membarrier(2) the cost moves to the rare side: the side about to sleep raises its flag and then issues
/// <c>MEMBARRIER_CMD_GLOBAL_EXPEDITED</c>, which runs a full barrier on every CPU running a registered process, so the
/// busy side needs only a release store and a plain load. Either the busy side's store was visible before the
/// barrier (the sleeper's re-check sees it and does not sleep), or its load came after it and sees the raised flag
/// (it wakes the sleeper): no lost wake-up. The busy side may skip its fence only while the peer says it issues the
/// barrier (a flag in the region, set once at attach); without membarrier (an old kernel, a seccomp filter, or
/// <c>L4RT_MEMBARRIER=0</c>) both sides keep the full fences.
/// </summary>
internal static class AsymmetricFence
{
    /// <summary>Whether this process issues the barrier before it sleeps (and may skip fences when the peer does too).</summary>
    internal static bool Available { get; } = Environment.GetEnvironmentVariable("L4RT_MEMBARRIER") != "0" && Libc.Membarrier.TryRegisterGlobalExpedited();

    /// <summary>
    /// The sleeper's barrier, after raising its flag (with a full fence of its own) and before the re-check. False when
    /// the kernel refused it: the peer may be skipping its fence, so the caller must not sleep unbounded on this look.
    /// </summary>
    internal static bool BeforeSleep() => !Available || Libc.Membarrier.GlobalExpedited();
}
