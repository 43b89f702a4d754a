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
        throw new NotSupportedException("Typed items (capabilities, flexpages) travel through the broker: a direct link carries untyped words only, and a reply carries words only (send items with Send or Call through a gate).");

    /// <summary>What the stream and pipe adapters throw when a channel operation fails (dead peer, corrupt ring, a ring full too long).</summary>
    internal static IOException ChannelFailed(string operation, L4Status status) =>
        new($"channel {operation} failed: {status}", new L4RtException(status, status.ToString()));

    [DoesNotReturn]
    internal static void ThrowSizeHintTooLarge(int sizeHint, long capacity, int max) =>
        throw new ArgumentOutOfRangeException(nameof(sizeHint), sizeHint, $"A record of this {capacity}-byte ring holds at most {max} bytes: GetSpan/GetMemory cannot hand out more.");

    [DoesNotReturn]
    internal static void ThrowAdvanceOutOfRange(int bytes, int available) =>
        throw (bytes < 0
            ? new ArgumentOutOfRangeException(nameof(bytes), bytes, "Advance by a negative count.")
            : new InvalidOperationException($"Can't advance past buffer size: Advance({bytes}) past the {available} bytes GetSpan/GetMemory returned."));

    [DoesNotReturn]
    internal static void ThrowPipeCompleted(bool writer) =>
        throw new InvalidOperationException(writer
            ? "Writing is not allowed after the channel's PipeWriter was completed."
            : "Reading is not allowed after the channel's PipeReader was completed.");

    [DoesNotReturn]
    internal static void ThrowFlushPending() =>
        throw new InvalidOperationException("The channel's PipeWriter is used while a FlushAsync still waits for room: await the flush first.");

    [DoesNotReturn]
    internal static void ThrowAlreadyReading() =>
        throw new InvalidOperationException("A read is already in progress: await it, then call AdvanceTo on its ReadResult, before the next read.");

    [DoesNotReturn]
    internal static void ThrowAdvanceToWithoutRead() =>
        throw new InvalidOperationException("AdvanceTo without a ReadResult to advance: call ReadAsync or TryRead first (and await it).");

    [DoesNotReturn]
    internal static void ThrowPositionOutsideBuffer(string name) =>
        throw new ArgumentOutOfRangeException(name, "The position does not lie in the buffer of the last ReadResult.");

    [DoesNotReturn]
    internal static void ThrowExaminedBeforeConsumed() =>
        throw new ArgumentOutOfRangeException("examined", "The examined position lies before the consumed one.");

    [DoesNotReturn]
    internal static void ThrowCommitOutOfRange(int length, int reserved) =>
        throw new ArgumentOutOfRangeException(nameof(length), length, $"Commit of {length} bytes: the reserved record holds 0 to {reserved}.");
}
