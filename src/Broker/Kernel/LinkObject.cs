using L4Rt.Memory;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// The region shared by one sending thread (of <see cref="Sender"/>) and the receiving thread of
/// <see cref="Gate"/>. Not addressable by a capability; it lives as long as the gate and the sender task.
/// Its bytes are charged to the sender's root factory (the sender caused it).
/// </summary>
internal sealed class LinkObject(long id, GateObject gate, TaskObject sender, LinkRegion region, int index)
{
    internal long Id { get; } = id;

    internal GateObject Gate { get; } = gate;

    internal TaskObject Sender { get; } = sender;

    internal LinkRegion Region { get; } = region;

    internal int Index { get; } = index;

    internal FactoryObject? ChargedTo { get; set; }

    /// <summary>The sender's capability the link was opened through: revoking it ends the link.</summary>
    internal Capability? OpenedThrough { get; init; }

    internal bool Installed { get; set; }

    /// <summary>The items of the message its sender is posting (one message slot, so at most one offer).</summary>
    internal ItemOfferRecord? Offer { get; set; }

    /// <summary>The items of the reply the receiving thread is posting (one reply slot, so at most one offer; a late one is replaced by the next).</summary>
    internal ItemOfferRecord? ReplyOffer { get; set; }

    internal bool Destroyed { get; set; }
}
