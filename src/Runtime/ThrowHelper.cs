using System.Diagnostics.CodeAnalysis;

namespace L4Rt;

/// <summary>Throws out of line, so hot methods stay small enough to inline.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    internal static void ThrowTagOutOfRange(int words, int items) =>
        throw new ArgumentOutOfRangeException(nameof(words), $"A message carries at most {Ipc.MsgTag.MaxWords} registers: {words} words + {items} items × {Ipc.MsgTag.WordsPerItem} do not fit.");

    [DoesNotReturn]
    internal static void ThrowItemsNeedBroker() =>
        throw new NotSupportedException("Typed items (capabilities, flexpages) travel through the broker's slow path; a direct link carries untyped words only.");
}
