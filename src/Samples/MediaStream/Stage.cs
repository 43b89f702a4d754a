namespace L4Rt.Samples.MediaStream;

/// <summary>The three processes of the pipeline.</summary>
internal enum Stage
{
    Source,
    Filter,
    Sink,
}
