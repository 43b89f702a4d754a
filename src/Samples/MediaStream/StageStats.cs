namespace L4Rt.Samples.MediaStream;

/// <summary>
/// What a stage's control gate answers to <see cref="ControlOp.Stats"/>, and its encoding in the reply's message
/// registers (one definition for the stage and the runner): MR0 state, MR1 frames, MR2 payload bytes, MR3 elapsed ns
/// (first frame's source stamp to the last frame done), MR4..MR6 end-to-end latency p50, p99 and max in ns (sink only).
/// </summary>
internal readonly record struct StageStats(StageState State, long Frames, long Bytes, long ElapsedNs, long P50Ns, long P99Ns, long MaxNs)
{
    /// <summary>Message words of a stats reply.</summary>
    public const int Words = 7;

    /// <summary>Frames per second over the elapsed time.</summary>
    public double Fps => ElapsedNs > 0 ? Frames * 1e9 / ElapsedNs : 0;

    /// <summary>Payload gigabytes (10⁹ bytes) per second over the elapsed time.</summary>
    public double GigabytesPerSecond => ElapsedNs > 0 ? (double)Bytes / ElapsedNs : 0;

    /// <summary>Encodes the stats into the reply's message registers.</summary>
    public void WriteTo(Span<ulong> mr)
    {
        mr[0] = (ulong)State;
        mr[1] = (ulong)Frames;
        mr[2] = (ulong)Bytes;
        mr[3] = (ulong)ElapsedNs;
        mr[4] = (ulong)P50Ns;
        mr[5] = (ulong)P99Ns;
        mr[6] = (ulong)MaxNs;
    }

    /// <summary>Decodes a reply; a state outside the enum reads as <see cref="StageState.Failed"/>.</summary>
    public static StageStats ReadFrom(ReadOnlySpan<ulong> mr) => new(
        mr[0] <= (ulong)StageState.Failed ? (StageState)mr[0] : StageState.Failed,
        (long)mr[1],
        (long)mr[2],
        (long)mr[3],
        (long)mr[4],
        (long)mr[5],
        (long)mr[6]);
}
