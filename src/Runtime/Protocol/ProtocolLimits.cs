namespace L4Rt.Protocol;

/// <summary>Limits both sides enforce on the control plane.</summary>
internal static class ProtocolLimits
{
    /// <summary>The largest frame either side sends or accepts (header included).</summary>
    internal const int MaxFrameSize = 64 * 1024;

    /// <summary>The longest name in the name service, in bytes of UTF-8.</summary>
    internal const int MaxNameLength = 128;

    /// <summary>The protocol version of <see cref="Opcode.Hello"/>.</summary>
    internal const uint ProtocolVersion = 1;

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
