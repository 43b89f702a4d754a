using L4Rt.Contracts;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// The contract of each stage's control gate (<c>mediastream/RUN/control/STAGE</c>): the source generator makes
/// <c>StageControlClient</c> (the runner and the demo call through it) and <c>StageControlDispatcher</c> (the stage's
/// <see cref="ControlServer"/> loop) from it. Opcodes as in <see cref="ControlOp"/>.
/// </summary>
[L4RtContract(Id = 2, Version = 1)]
internal interface IStageControl
{
    /// <summary>Start streaming (the source waits for it when the runner drives the run).</summary>
    [L4RtOperation(ControlOp.Start)]
    void Start();

    /// <summary>End the stream gracefully after the current frame (the source completes its channel).</summary>
    [L4RtOperation(ControlOp.Stop)]
    void Stop();

    /// <summary>The stage's figures so far (a final one — state done or failed — tells the stage the runner has them).</summary>
    [L4RtOperation(ControlOp.Stats)]
    StageStats Stats();

    /// <summary>The same figures for an onlooker (the demo's live view): never taken as the runner's final read.</summary>
    [L4RtOperation(ControlOp.Watch)]
    StageStats Watch();
}
