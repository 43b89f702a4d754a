using System.Runtime.CompilerServices;

namespace L4Rt.Samples.Echo;

/// <summary>The 8 words an Echo message carries (8 message registers).</summary>
[InlineArray(Length)]
public struct EchoWords
{
    /// <summary>Words in a message.</summary>
    public const int Length = 8;

    private ulong _first;
}
