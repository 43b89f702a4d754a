namespace L4Rt.Samples.MediaStream;

/// <summary>The stream cannot go on: a neighbouring stage died, broke the record format, or did not finish in time. The message says which and why.</summary>
internal sealed class PipelineException(string message) : Exception(message);
