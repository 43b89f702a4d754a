namespace L4Rt.Samples.MediaStream;

/// <summary>Where a stage is, as its control gate reports it.</summary>
internal enum StageState
{
    /// <summary>Connected, set up, waiting for the start (or streaming has not produced a frame yet).</summary>
    Ready,

    /// <summary>Frames are flowing.</summary>
    Running,

    /// <summary>The stream ended and the stage finished its work.</summary>
    Done,

    /// <summary>The stage failed (its stderr says why) and is about to exit non-zero.</summary>
    Failed,
}
