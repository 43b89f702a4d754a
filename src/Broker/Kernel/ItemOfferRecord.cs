using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>Where an offer of items stands: the first of accept and withdraw decides.</summary>
internal enum OfferState
{
    Offered,
    Applied,
    Withdrawn,
    Refused,
}

/// <summary>One offered item, checked against the sender's capability space when offered (and again when accepted).</summary>
internal readonly record struct OfferedItem(bool IsMemory, bool Grant, CapRights Rights, Capability Source, long Offset, long Size);

/// <summary>The items a sender offered for message <see cref="Seq"/> of its link.</summary>
internal sealed class ItemOfferRecord(int seq, OfferedItem[] items)
{
    internal int Seq { get; } = seq;

    internal OfferedItem[] Items { get; } = items;

    internal OfferState State { get; set; }

    internal L4Status RefusedWith { get; set; }
}
