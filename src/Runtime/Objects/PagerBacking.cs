namespace L4Rt.Objects;

/// <summary>
/// A pager's mapping of a paged dataspace (<see cref="Dataspace.MapBackingAsync"/>): the pages a pager supplies are placed
/// through it, each one atomically (the kernel's <c>UFFDIO_COPY</c>), so no process ever sees a page half written. It
/// exposes no span: touching a page that is not there would fault with nobody to serve it.
/// </summary>
/// <remarks>
/// Placing a page makes it part of the dataspace for every mapping in every process; a page can be placed before
/// anyone asked for it (prefetch). Revoking the capability it was mapped through, or disposing it, ends it
/// (<see cref="Supply"/> then returns that <see cref="Status"/>).
/// </remarks>
public sealed class PagerBacking : IDisposable
{
    private readonly DataspaceMapping _mapping;

    internal PagerBacking(DataspaceMapping mapping) => _mapping = mapping;

    /// <summary>The size of the dataspace in bytes.</summary>
    public long Length => _mapping.Length;

    /// <summary>The capability the backing was mapped through.</summary>
    public Dataspace Dataspace => _mapping.Dataspace!;

    /// <summary><see cref="L4Status.Ok"/> while mapped; <see cref="L4Status.InvalidCapability"/> once revoked; <see cref="L4Status.Aborted"/> once disposed.</summary>
    public L4Status Status => _mapping.Status;

    /// <summary>
    /// Places <paramref name="page"/> (exactly <see cref="PageFault.PageSize"/> bytes) as the page at
    /// <paramref name="offset"/> (page-aligned, inside the dataspace; else <see cref="ArgumentException"/>):
    /// <see cref="L4Status.Ok"/>, <see cref="L4Status.AlreadyExists"/> when the dataspace has that page already (it is left
    /// as it is), or the <see cref="Status"/> once the backing is not mapped.
    /// </summary>
    public L4Status Supply(long offset, ReadOnlySpan<byte> page) => _mapping.Supply(offset, page);

    /// <summary>Whether the dataspace has the page at <paramref name="offset"/> (supplied by anyone, at any time).</summary>
    public bool IsSupplied(long offset) => _mapping.IsSupplied(offset);

    /// <summary>Unmaps the backing (pages placed stay in the dataspace).</summary>
    public void Dispose() => _mapping.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"pager backing of {Length} bytes, {Status}";
}
