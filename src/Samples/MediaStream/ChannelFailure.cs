using L4Rt.Channels;
using L4Rt.Ipc;

namespace L4Rt.Samples.MediaStream;

/// <summary>What a channel status means for the stream, as one message vocabulary for every transport.</summary>
internal static class ChannelFailure
{
    /// <summary>How long an end of stream may take to get through (a Complete, the sink returning the last slots).</summary>
    public static readonly L4Timeout EndTimeout = L4Timeout.FromSeconds(30);

    /// <summary>The ring size for records of <paramref name="recordSize"/> bytes, <paramref name="records"/> of them at least (a power of two).</summary>
    public static long RingFor(int recordSize, int records)
    {
        long need = Math.Max(4096, records * (recordSize + 16L)); // 8-byte record header + alignment
        return (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)need);
    }

    /// <summary>A reading end's failure: the peer died (no completion), or anything else that is not Ok.</summary>
    public static PipelineException Reading(ChannelConsumer consumer, L4Status status, string peer, string what, long frames) => status == L4Status.DestinationDeleted
        ? new PipelineException($"the {peer} stage died or failed: its {what} ended without completion (DestinationDeleted) after {frames} frames")
        : new PipelineException($"reading the {what} from the {peer} stage: {status}{(consumer.IsFaulted ? " (the ring is corrupt)" : "")} after {frames} frames");

    /// <summary>A writing end's failure: the reader died, or anything else that is not Ok.</summary>
    public static PipelineException Writing(L4Status status, string peer, string what) => status == L4Status.DestinationDeleted
        ? new PipelineException($"the {peer} stage died or failed: its {what} has no reader any more (DestinationDeleted)")
        : new PipelineException($"writing the {what} to the {peer} stage: {status}");
}
