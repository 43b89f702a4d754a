namespace L4Rt.Samples.MediaStream;

/// <summary>
/// What a stage's control gate answers to <see cref="IStageControl.Stats"/> (the generated contract code carries it as
/// 7 whole words): the state, frames, payload bytes, elapsed ns (first frame's source stamp to the last frame done), and
/// end-to-end latency p50, p99 and max in ns (sink only).
/// </summary>
internal readonly record struct StageStats(StageState State, long Frames, long Bytes, long ElapsedNs, long P50Ns, long P99Ns, long MaxNs)
{
    /// <summary>Frames per second over the elapsed time.</summary>
    public double Fps => ElapsedNs > 0 ? Frames * 1e9 / ElapsedNs : 0;

    /// <summary>Payload gigabytes (10⁹ bytes) per second over the elapsed time.</summary>
    public double GigabytesPerSecond => ElapsedNs > 0 ? (double)Bytes / ElapsedNs : 0;
}
