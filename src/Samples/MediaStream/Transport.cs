namespace L4Rt.Samples.MediaStream;

/// <summary>How frames travel between the stages.</summary>
internal enum Transport
{
    /// <summary>Whole frames in FIFO channel records, written and read in place in the rings.</summary>
    Fifo,

    /// <summary>Frames in a shared dataspace frame pool; only indices (and the stamp) go through small FIFOs, free slots return to the source.</summary>
    Pool,
}
