namespace L4Rt.Samples.MediaStream;

/// <summary>The settings of a run and of each stage (the runner passes its own on to the stages it starts).</summary>
internal sealed class MediaOptions
{
    /// <summary>The frames' size and nominal rate.</summary>
    public required FrameGeometry Geometry { get; init; }

    /// <summary>Frames to stream (0: no limit; then <see cref="Seconds"/> or a stop ends the stream).</summary>
    public long Frames { get; init; }

    /// <summary>Seconds to stream (0: no limit).</summary>
    public double Seconds { get; init; }

    /// <summary>Render as fast as the pipeline takes frames instead of at <see cref="FrameGeometry.Fps"/>.</summary>
    public bool Unthrottled { get; init; }

    /// <summary>The broker's socket; null: the runner starts a private broker (stages always get one).</summary>
    public string? Socket { get; init; }

    /// <summary>The .y4m file the sink writes (<c>{transport}</c> is replaced by the transport's name).</summary>
    public required string Output { get; init; }

    /// <summary>Frames a FIFO ring holds at least.</summary>
    public int RingFrames { get; init; } = 4;

    /// <summary>Frames in the pool.</summary>
    public int PoolSlots { get; init; } = 8;

    /// <summary>Print the summary as JSON.</summary>
    public bool Json { get; init; }

    /// <summary>A stage: the run's name (the prefix of the names it registers and queries).</summary>
    public string Run { get; init; } = "";

    /// <summary>A stage: the runner drives it through the control gates (the source waits for the start, the sink for the final stats call).</summary>
    public bool Controlled { get; init; }

    /// <summary>The sink's output path for <paramref name="transport"/>.</summary>
    public string OutputFor(Transport transport) => Output.Replace("{transport}", transport.ToString().ToLowerInvariant(), StringComparison.Ordinal);
}
