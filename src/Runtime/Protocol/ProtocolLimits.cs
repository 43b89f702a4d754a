namespace L4Rt.Protocol;

/// <summary>Limits both sides enforce on the control plane.</summary>
internal static class ProtocolLimits
{
    /// <summary>The largest frame either side sends or accepts (header included).</summary>
    internal const int MaxFrameSize = 64 * 1024;

    /// <summary>The longest name in the name service, in bytes of UTF-8.</summary>
    internal const int MaxNameLength = 128;

    /// <summary>The longest task name a client may give in <see cref="Opcode.Hello"/>, in bytes of UTF-8.</summary>
    internal const int MaxTaskNameLength = 64;

    /// <summary>The longest error message either side puts in a reply, in bytes of UTF-8 (longer ones are cut).</summary>
    internal const int MaxErrorMessageLength = 1024;

    /// <summary>The most descriptors a request may carry (the broker receives no more than this per frame).</summary>
    internal const int MaxRequestFds = 1;

    /// <summary>The page size dataspace sizes, offsets and flexpages are whole multiples of.</summary>
    internal const long PageSize = 4096;

    /// <summary>The largest dataspace (1 GiB: one mapping is one span).</summary>
    internal const long MaxDataspaceSize = 1L << 30;

    /// <summary>
    /// The protocol version of <see cref="Opcode.Hello"/>. 2: <see cref="Opcode.NameList"/> and
    /// <see cref="Opcode.Status"/> are paged; <see cref="Opcode.FactoryUsage"/> reports descriptors.
    /// </summary>
    internal const uint ProtocolVersion = 2;

    /// <summary>
    /// A name is 1–128 characters of ASCII letters, digits and <c>. _ - / :</c>, not starting with '/' or '.'.
    /// </summary>
    internal static bool IsValidName(string name)
    {
        if (name.Length is 0 or > MaxNameLength || name[0] is '/' or '.')
        {
            return false;
        }

        foreach (char ch in name)
        {
            if (!(char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-' or '/' or ':'))
            {
                return false;
            }
        }

        return true;
    }
}
