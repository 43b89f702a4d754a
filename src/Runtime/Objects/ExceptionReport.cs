using System.Text;
using L4Rt.Ipc;

namespace L4Rt.Objects;

/// <summary>
/// An unhandled exception as it reaches an exception handler: the <see cref="SystemProtocol.Exception"/> IPC a thread
/// that opted in (<see cref="ExceptionReporting.OptIn"/>) sends before its task ends — the L4 "exception IPC" for
/// supervisors. A handler is an ordinary server: <see cref="TryRead"/> the message, then reply (any reply lets the dying
/// task go on ending; the report is delivered once the call returns).
/// </summary>
/// <remarks>
/// Words: MR0 the managed thread id, MR1 the UTF-8 length of the type name, MR2 that of the message, MR3 that of the
/// thread's name, then the three strings' bytes back to back from MR4, each cut to fit the message registers (the type
/// name to <see cref="MaxTypeBytes"/>, the thread name to <see cref="MaxThreadNameBytes"/>, the message to what is left).
/// </remarks>
public readonly record struct ExceptionReport(string Type, string Message, int ThreadId, string ThreadName)
{
    /// <summary>The most bytes of the type name a report carries.</summary>
    public const int MaxTypeBytes = 160;

    /// <summary>The most bytes of the thread's name a report carries.</summary>
    public const int MaxThreadNameBytes = 64;

    private const int HeaderWords = 4;
    private const int TextBytes = (MsgTag.MaxWords - HeaderWords) * sizeof(ulong);

    /// <summary>
    /// Reads a report from the message just received with <paramref name="tag"/>; false when it is not a well-formed one
    /// (another protocol, items, lengths that do not fit the words sent). The strings are decoded leniently (invalid
    /// UTF-8 becomes U+FFFD): the sender is another task.
    /// </summary>
    public static bool TryRead(Utcb utcb, MsgTag tag, out ExceptionReport report)
    {
        ArgumentNullException.ThrowIfNull(utcb);
        report = default;
        if (tag.Protocol != SystemProtocol.Exception || tag.Items != 0 || tag.Words < HeaderWords)
        {
            return false;
        }

        Span<ulong> mr = utcb.Mr;
        ulong threadId = mr[0], typeBytes = mr[1], messageBytes = mr[2], nameBytes = mr[3];
        ulong available = (ulong)(tag.Words - HeaderWords) * sizeof(ulong);
        if (threadId > int.MaxValue || typeBytes > MaxTypeBytes || nameBytes > MaxThreadNameBytes || messageBytes > TextBytes
            || typeBytes + messageBytes + nameBytes > available)
        {
            return false;
        }

        ReadOnlySpan<byte> text = System.Runtime.InteropServices.MemoryMarshal.AsBytes(mr.Slice(HeaderWords, tag.Words - HeaderWords));
        int t = (int)typeBytes, m = (int)messageBytes, n = (int)nameBytes;
        report = new ExceptionReport(Encoding.UTF8.GetString(text[..t]), Encoding.UTF8.GetString(text.Slice(t, m)), (int)threadId, Encoding.UTF8.GetString(text.Slice(t + m, n)));
        return true;
    }

    /// <summary>Writes this report into <paramref name="utcb"/> (strings cut to fit) and returns its tag.</summary>
    internal MsgTag Write(Utcb utcb)
    {
        Span<ulong> mr = utcb.Mr;
        Span<byte> text = System.Runtime.InteropServices.MemoryMarshal.AsBytes(mr.Slice(HeaderWords, MsgTag.MaxWords - HeaderWords));
        text.Clear();
        Span<byte> name = stackalloc byte[MaxThreadNameBytes];
        int n = Cut(ThreadName, name);
        int t = Cut(Type, text[..MaxTypeBytes]);
        int m = Cut(Message, text[t..^n]); // what the type and the name leave
        name[..n].CopyTo(text[(t + m)..]);
        mr[0] = (ulong)ThreadId;
        mr[1] = (ulong)t;
        mr[2] = (ulong)m;
        mr[3] = (ulong)n;
        int words = HeaderWords + (((t + m + n) + sizeof(ulong) - 1) / sizeof(ulong));
        return new MsgTag(SystemProtocol.Exception, words);
    }

    /// <summary>Writes as much of <paramref name="value"/> as fits in whole UTF-8 characters; returns the bytes written.</summary>
    private static int Cut(string value, Span<byte> destination)
    {
        Encoder encoder = Encoding.UTF8.GetEncoder();
        encoder.Convert(value, destination, flush: true, out _, out int bytes, out _);
        return bytes;
    }
}
