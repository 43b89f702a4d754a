using System.Diagnostics;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// A stage's state as its data path updates it and its control gate reads it (from the control thread): the start
/// and stop requests, the frame count, the time span and, in the sink, the latency histogram.
/// </summary>
internal sealed class StageControl(int frameSize)
{
    private static readonly double s_nanosPerTick = 1e9 / Stopwatch.Frequency;
    private int _state;
    private int _stop;
    private long _frames;
    private long _firstStamp;
    private long _lastDone;

    /// <summary>Set by <see cref="ControlOp.Start"/>.</summary>
    public ManualResetEventSlim Started { get; } = new(false);

    /// <summary>Set once a final <see cref="ControlOp.Stats"/> (state done or failed) was answered: the runner has the numbers.</summary>
    public ManualResetEventSlim FinalTaken { get; } = new(false);

    /// <summary>The sink's end-to-end latencies.</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>Set by <see cref="ControlOp.Stop"/>: the source ends the stream after the current frame.</summary>
    public bool StopRequested => Volatile.Read(ref _stop) != 0;

    /// <summary>Where the stage is (the data path sets it, the gate reports it).</summary>
    public StageState State
    {
        get => (StageState)Volatile.Read(ref _state);
        set => Volatile.Write(ref _state, (int)value);
    }

    /// <summary>Frames this stage is done with.</summary>
    public long Frames => Volatile.Read(ref _frames);

    /// <summary>Asks the data path to end the stream.</summary>
    public void RequestStop() => Volatile.Write(ref _stop, 1);

    /// <summary>A frame passed this stage: <paramref name="stamp"/> is its source stamp, <paramref name="now"/> when this stage was done with it.</summary>
    public void FrameDone(long stamp, long now)
    {
        if (_frames == 0)
        {
            Volatile.Write(ref _firstStamp, stamp);
            State = StageState.Running;
        }

        Volatile.Write(ref _lastDone, now);
        Volatile.Write(ref _frames, _frames + 1);
    }

    /// <summary>The end-to-end latency of a frame (the sink records it).</summary>
    public void RecordLatency(long stamp, long now) => Latency.Record((long)((now - stamp) * s_nanosPerTick));

    /// <summary>The numbers as of now (read while the data path runs: each word is read whole, the set may be a frame apart).</summary>
    public StageStats Snapshot()
    {
        long frames = Frames;
        long elapsed = frames == 0 ? 0 : (long)((Volatile.Read(ref _lastDone) - Volatile.Read(ref _firstStamp)) * s_nanosPerTick);
        return new StageStats(State, frames, frames * frameSize, elapsed, Latency.Percentile(0.50), Latency.Percentile(0.99), Latency.Max);
    }
}
