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
