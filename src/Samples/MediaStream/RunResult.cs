namespace L4Rt.Samples.MediaStream;

/// <summary>One transport's run as the runner reports it: the sink's final stats and where the video went.</summary>
internal sealed record RunResult(Transport Transport, StageStats Stats, string Output);
