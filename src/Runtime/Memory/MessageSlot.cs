using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace L4Rt.Memory;

/// <summary>
/// One UTCB-sized message in shared memory: the raw tag word followed by MR0..MR62 (512 bytes).
/// Written by one side only; the other side reads the tag once, validates it, and copies out only
/// the validated number of words.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal struct MessageSlot
{
    internal const int Size = 512;
    internal const int Words = 63;

    [FieldOffset(0)]
    public ulong Tag;

    [FieldOffset(8)]
    public MessageWords Mr;
}

/// <summary>The 63 message registers of a <see cref="MessageSlot"/>.</summary>
[InlineArray(MessageSlot.Words)]
internal struct MessageWords
{
    private ulong _element0;
}
