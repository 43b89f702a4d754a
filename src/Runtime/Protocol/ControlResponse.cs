using L4Rt.Interop;

namespace L4Rt.Protocol;

/// <summary>A response from the broker: status, payload, descriptors (owned by the receiver of this object).</summary>
internal sealed class ControlResponse(L4Status status, byte[] payload, List<SafeFdHandle> fds) : IDisposable
{
    internal L4Status Status { get; } = status;

    internal byte[] Payload { get; } = payload;

    internal List<SafeFdHandle> Fds { get; } = fds;

    /// <summary>Throws the broker's error (with its message) unless the status is Ok.</summary>
    internal ControlResponse ThrowIfError(string operation)
    {
        if (Status == L4Status.Ok)
        {
            return this;
        }

        string detail = "";
        try
        {
            FrameReader reader = new(Payload);
            detail = reader.Remaining > 2 ? ": " + reader.ReadString() : "";
        }
        catch (L4RtException)
        {
            // no message attached
        }

        Dispose();
        throw new L4RtException(Status, $"{operation} failed with {Status}{detail}");
    }

    /// <summary>The reply as its message type (descriptors it carries are taken; the rest are disposed with this response).</summary>
    internal TReply Read<TReply>()
        where TReply : Messages.IControlMessage<TReply>
    {
        FrameReader reader = new(Payload);
        return TReply.Read(ref reader, Fds);
    }

    public void Dispose()
    {
        foreach (SafeFdHandle fd in Fds)
        {
            fd.Dispose();
        }

        Fds.Clear();
    }
}
