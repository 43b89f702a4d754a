using L4Rt.Objects;
using L4Rt.Protocol;

namespace L4Rt.Contracts;

/// <summary>
/// A contract parameter that lends memory: a flexpage (whole pages of a <see cref="Objects.Dataspace"/>) that travels
/// as a memory item and is mapped into the server's receive window, atomically with the words. The client builds it
/// from a dataspace; the server's implementation receives it with <see cref="Mapping"/> set (the server owns that
/// mapping: dispose it to unmap).
/// </summary>
public readonly struct Flexpage : IEquatable<Flexpage>
{
    /// <summary>Lends <paramref name="size"/> bytes at <paramref name="offset"/> of <paramref name="dataspace"/> (whole pages), read-only (<see cref="CapRights.Read"/>) or read-write (<see cref="CapRights.Write"/>).</summary>
    public Flexpage(Dataspace dataspace, long offset, long size, CapRights rights)
    {
        ArgumentNullException.ThrowIfNull(dataspace);
        Dataspace = dataspace;
        Offset = offset;
        Size = size;
        Rights = rights;
    }

    /// <summary>A received flexpage.</summary>
    internal Flexpage(DataspaceMapping mapping)
    {
        Mapping = mapping;
        Offset = mapping.Offset;
        Size = mapping.Length;
        Rights = mapping.IsWritable ? CapRights.Write : CapRights.Read;
    }

    /// <summary>The dataspace lent (sending side).</summary>
    public Dataspace? Dataspace { get; }

    /// <summary>Where in the dataspace the pages start, in bytes.</summary>
    public long Offset { get; }

    /// <summary>How many bytes are lent.</summary>
    public long Size { get; }

    /// <summary>Read-only or read-write.</summary>
    public CapRights Rights { get; }

    /// <summary>The mapping that arrived (receiving side; null on the sending side).</summary>
    public DataspaceMapping? Mapping { get; }

    /// <summary>The memory item of this flexpage (sending side).</summary>
    internal MsgItem ToItem() => Dataspace is { } ds
        ? MsgItem.Flexpage(ds, Offset, Size, Rights)
        : throw new InvalidOperationException("A received flexpage cannot be sent on: lend the dataspace itself.");

    /// <inheritdoc/>
    public bool Equals(Flexpage other) => Dataspace == other.Dataspace && Mapping == other.Mapping && Offset == other.Offset && Size == other.Size && Rights == other.Rights;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Flexpage other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Dataspace, Mapping, Offset, Size, Rights);

    /// <summary>Equality.</summary>
    public static bool operator ==(Flexpage left, Flexpage right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(Flexpage left, Flexpage right) => !left.Equals(right);
}
