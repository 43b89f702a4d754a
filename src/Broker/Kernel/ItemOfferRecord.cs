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

/// <summary>
/// The items <see cref="From"/> offered for message <see cref="Seq"/> of a link: the sender's for a request, the
/// receiving task's for the reply to call <see cref="Seq"/>.
/// </summary>
internal sealed class ItemOfferRecord(int seq, OfferedItem[] items, TaskObject from)
{
    internal int Seq { get; } = seq;

    /// <summary>The task whose capabilities the items are (checked again when they are accepted).</summary>
    internal TaskObject From { get; } = from;

    internal OfferedItem[] Items { get; } = items;

    internal OfferState State { get; set; }

    internal L4Status RefusedWith { get; set; }
}
