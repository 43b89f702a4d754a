namespace L4Rt;

/// <summary>A failed control-plane call or a misuse of the runtime, with its <see cref="L4Status"/>.</summary>
public sealed class L4RtException : Exception
{
    /// <summary>Creates an exception for <paramref name="status"/>.</summary>
    public L4RtException(L4Status status, string message)
        : base(message) => Status = status;

    /// <summary>Creates an exception for <paramref name="status"/> caused by <paramref name="inner"/>.</summary>
    public L4RtException(L4Status status, string message, Exception inner)
        : base(message, inner) => Status = status;

    /// <summary>Creates an exception with status <see cref="L4Status.ProtocolViolation"/>.</summary>
    public L4RtException()
        : this(L4Status.ProtocolViolation, "Protocol violation.")
    {
    }

    /// <summary>Creates an exception with status <see cref="L4Status.ProtocolViolation"/>.</summary>
    public L4RtException(string message)
        : this(L4Status.ProtocolViolation, message)
    {
    }

    /// <summary>Creates an exception with status <see cref="L4Status.ProtocolViolation"/>.</summary>
    public L4RtException(string message, Exception inner)
        : this(L4Status.ProtocolViolation, message, inner)
    {
    }

    /// <summary>What went wrong, in the runtime's vocabulary.</summary>
    public L4Status Status { get; }
}
