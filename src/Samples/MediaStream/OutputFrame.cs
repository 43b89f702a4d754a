namespace L4Rt.Samples.MediaStream;

/// <summary>Where a stage writes the frame it will publish: the pixels (in a ring record or a pool slot) and, in a ring record, the header before them.</summary>
internal ref struct OutputFrame
{
    /// <summary>The record's header in the ring (empty in the frame pool: the index record is written at publish time).</summary>
    public Span<byte> Header;

    /// <summary>The frame's <see cref="FrameGeometry.FrameSize"/> bytes.</summary>
    public Span<byte> Pixels;

    /// <summary>The pool slot (-1 in a ring record).</summary>
    public int Slot;
}
