namespace L4Rt.Samples.MediaStream;

/// <summary>The control gate's operations: the protocol of the call's tag. The reply carries the same protocol.</summary>
internal static class ControlOp
{
    /// <summary>Start streaming (the source waits for it when the runner drives the run).</summary>
    public const int Start = 1;

    /// <summary>End the stream gracefully after the current frame (the source completes its channel).</summary>
    public const int Stop = 2;

    /// <summary>The stage's <see cref="StageStats"/>.</summary>
    public const int Stats = 3;

    /// <summary>The stage's <see cref="StageStats"/> for an onlooker: a final one does not count as the runner's.</summary>
    public const int Watch = 4;
}
