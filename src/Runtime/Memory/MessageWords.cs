using System.Runtime.CompilerServices;

namespace L4Rt.Memory;

/// <summary>
/// The 63 message registers MR0..MR62 of one direction of a link in shared memory (504 bytes, starting on a cache
/// line; the raw tag word lives in the link's control line). Written by one side only; the other side reads the tag
/// once, validates it, and copies out only the validated number of words.
/// </summary>
[InlineArray(Count)]
internal struct MessageWords
{
    internal const int Count = 63;

    private ulong _element0;
}

/// <summary>
/// MR0..MR1 of a short message of one direction, in the link's control line (16 bytes): a message of at most
/// <see cref="Count"/> words moves with the State word that publishes it, one line per direction.
/// </summary>
[InlineArray(Count)]
internal struct ShortWords
{
    internal const int Count = 2;

    private ulong _element0;
}
