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
        throw new NotSupportedException("Typed items (capabilities, flexpages) cannot be sent yet: a direct link carries untyped words only, and the broker path that will carry items does not exist yet.");

    [DoesNotReturn]
    internal static void ThrowCommitOutOfRange(int length, int reserved) =>
        throw new ArgumentOutOfRangeException(nameof(length), length, $"Commit of {length} bytes: the reserved record holds 0 to {reserved}.");
}
