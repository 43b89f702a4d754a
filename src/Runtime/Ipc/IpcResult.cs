namespace L4Rt.Ipc;

/// <summary>
/// The outcome of an IPC operation: a status (never an exception for an expected outcome such as a
/// timeout), the received tag and the label of the link or IRQ it came through (receive operations).
/// The received words are in the thread's <see cref="Utcb.Mr"/>.
/// </summary>
public readonly struct IpcResult : IEquatable<IpcResult>
{
    internal IpcResult(L4Status status, MsgTag tag = default, ulong label = 0)
    {
        Status = status;
        Tag = tag;
        Label = label;
    }

    /// <summary>What happened.</summary>
    public L4Status Status { get; }

    /// <summary>True when <see cref="Status"/> is <see cref="L4Status.Ok"/>.</summary>
    public bool IsOk => Status == L4Status.Ok;

    /// <summary>The tag of the received message or reply.</summary>
    public MsgTag Tag { get; }

    /// <summary>The label of the gate (link) or IRQ the message came through; written by the receiver's setup, never by a sender.</summary>
    public ulong Label { get; }

    /// <inheritdoc/>
    public bool Equals(IpcResult other) => Status == other.Status && Tag == other.Tag && Label == other.Label;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is IpcResult other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Status, Tag, Label);

    /// <inheritdoc/>
    public override string ToString() => IsOk ? $"Ok {Tag} label {Label}" : Status.ToString();

    /// <summary>Equality.</summary>
    public static bool operator ==(IpcResult left, IpcResult right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(IpcResult left, IpcResult right) => !left.Equals(right);
}
