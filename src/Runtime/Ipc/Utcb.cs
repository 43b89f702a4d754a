namespace L4Rt.Ipc;

/// <summary>
/// The user-level thread control block of one <see cref="L4Thread"/>: its virtual registers.
/// <list type="bullet">
/// <item><see cref="Mr"/> — message registers MR0..MR62: the words of the next message to send, and of the last one received
/// (the tag travels beside them, in the operation's arguments and result).</item>
/// <item><see cref="Br"/> — buffer registers: receive descriptors saying where incoming typed items
/// (capabilities, flexpages) land; <see cref="Bdr"/> is the buffer descriptor register.</item>
/// <item><see cref="Tcr"/> — thread control registers: private to the thread, never copied by IPC.</item>
/// </list>
/// A UTCB belongs to one OS thread at a time; it is private memory, never shared.
/// </summary>
public sealed class Utcb
{
    /// <summary>Number of message registers.</summary>
    public const int MessageRegisters = MsgTag.MaxWords;

    /// <summary>Number of buffer registers.</summary>
    public const int BufferRegisters = 58;

    /// <summary>Number of thread control registers.</summary>
    public const int ThreadControlRegisters = 16;

    private readonly ulong[] _registers = new ulong[MessageRegisters + BufferRegisters + ThreadControlRegisters];

    /// <summary>The message registers MR0..MR62.</summary>
    public Span<ulong> Mr => _registers.AsSpan(0, MessageRegisters);

    /// <summary>The buffer registers BR0..BR57.</summary>
    public Span<ulong> Br => _registers.AsSpan(MessageRegisters, BufferRegisters);

    /// <summary>The thread control registers (private, never copied).</summary>
    public Span<ulong> Tcr => _registers.AsSpan(MessageRegisters + BufferRegisters, ThreadControlRegisters);

    /// <summary>The buffer descriptor register: how many buffer registers describe receive windows.</summary>
    public ulong Bdr { get; set; }
}
