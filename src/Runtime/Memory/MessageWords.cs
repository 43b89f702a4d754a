using System.Runtime.CompilerServices;

namespace L4Rt.Memory;

/// <summary>
/// The 63 message registers MR0..MR62 of one direction of a link in shared memory (504 bytes, starting on a cache
/// line; the raw tag word lives in the line that publishes the message). Written by one side only; the other side reads the tag
/// once, validates it, and copies out only the validated number of words.
/// </summary>
[InlineArray(Count)]
internal struct MessageWords
{
    internal const int Count = 63;

    private ulong _element0;
}

/// <summary>
/// MR0..MR5 of a short message of one direction, in the line that publishes it (48 bytes): a message of at most
/// <see cref="Count"/> words moves with the state word that publishes it, one line per direction.
/// </summary>
[InlineArray(Count)]
internal struct ShortWords
{
    internal const int Count = 6;

    private ulong _element0;
}
