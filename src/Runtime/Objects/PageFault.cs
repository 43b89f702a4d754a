using L4Rt.Ipc;
using L4Rt.Protocol;

namespace L4Rt.Objects;

/// <summary>
/// A page fault as it reaches a pager: the IPC the runtime of a task that touched a page of a paged dataspace (see
/// <see cref="Factory.CreatePagedDataspaceAsync"/>) sends to the dataspace's pager gate, and the reply that answers it.
/// A pager is an ordinary server loop: <see cref="TryRead"/> the message, place the page through its
/// <see cref="PagerBacking"/>, answer with <see cref="Reply"/>.
/// </summary>
/// <remarks>
/// <para>The request: protocol <see cref="SystemProtocol.PageFault"/>, 3 words: MR0 the dataspace's pager id (chosen by
/// its creator), MR1 the offset of the faulting page (page-aligned, inside the dataspace), MR2 the access (0 read,
/// 1 write).</para>
/// <para>The reply: protocol <see cref="SystemProtocol.PageFault"/>, 3 words: MR0 the status (<see cref="L4Status.Ok"/>:
/// the page is placed; or a refusal: <see cref="L4Status.Aborted"/>, <see cref="L4Status.NoRights"/>,
/// <see cref="L4Status.InvalidArgument"/>), MR1 the offset of the page placed (the faulting one), MR2 its length (one
/// page). The faulting side refuses anything else with <see cref="L4Status.ProtocolViolation"/>, as it does an
/// <see cref="L4Status.Ok"/> for a page that is not there: see <see cref="DataspaceMapping"/> for what a failed fault does.</para>
/// </remarks>
public readonly struct PageFault
{
    /// <summary>Words of a fault request and of its reply.</summary>
    public const int Words = 3;

    /// <summary>The size of the pages a pager supplies, in bytes.</summary>
    public const int PageSize = (int)ProtocolLimits.PageSize;

    private PageFault(ulong dataspaceId, long offset, bool isWrite)
    {
        DataspaceId = dataspaceId;
        Offset = offset;
        IsWrite = isWrite;
    }

    /// <summary>The id the pager knows the dataspace by (given to <see cref="Factory.CreatePagedDataspaceAsync"/>).</summary>
    public ulong DataspaceId { get; }

    /// <summary>The offset of the faulting page in the dataspace (a multiple of <see cref="PageSize"/>).</summary>
    public long Offset { get; }

    /// <summary>
    /// Whether the kernel reported the faulting access as a write. A hint, not a right: a copy routine (memmove) writing
    /// a whole page may touch it first with a read, and then the fault is reported as a read; the rights of the mapping
    /// are the protection, not this flag.
    /// </summary>
    public bool IsWrite { get; }

    /// <summary>
    /// Reads a fault from the message registers of the message just received with <paramref name="tag"/>; false when it
    /// is not a well-formed fault (another protocol, other word or item counts, an offset that is not page-aligned, an
    /// unknown access). The sender is another task: a pager still checks the offset against its own dataspace.
    /// </summary>
    public static bool TryRead(Utcb utcb, MsgTag tag, out PageFault fault)
    {
        ArgumentNullException.ThrowIfNull(utcb);
        fault = default;
        if (tag.Protocol != SystemProtocol.PageFault || tag.Words != Words || tag.Items != 0)
        {
            return false;
        }

        Span<ulong> mr = utcb.Mr;
        ulong offset = mr[1], access = mr[2];
        if (offset > (ulong)ProtocolLimits.MaxDataspaceSize || offset % (ulong)PageSize != 0 || access > 1)
        {
            return false;
        }

        fault = new PageFault(mr[0], (long)offset, access == 1);
        return true;
    }

    /// <summary>
    /// Writes the reply to <paramref name="fault"/> into <paramref name="utcb"/> and returns its tag (send it with
    /// <see cref="L4Thread.ReplyAndWait(MsgTag, L4Timeout)"/> or <see cref="L4Thread.Reply"/>): <see cref="L4Status.Ok"/> once the page was
    /// placed (<see cref="PagerBacking.Supply"/> returned <see cref="L4Status.Ok"/> or <see cref="L4Status.AlreadyExists"/>),
    /// else <see cref="L4Status.Aborted"/>, <see cref="L4Status.NoRights"/> or <see cref="L4Status.InvalidArgument"/>.
    /// </summary>
    public static MsgTag Reply(Utcb utcb, in PageFault fault, L4Status status)
    {
        ArgumentNullException.ThrowIfNull(utcb);
        if (status is not (L4Status.Ok or L4Status.Aborted or L4Status.NoRights or L4Status.InvalidArgument))
        {
            throw new ArgumentException($"a pager answers Ok, Aborted, NoRights or InvalidArgument, not {status}", nameof(status));
        }

        Span<ulong> mr = utcb.Mr;
        mr[0] = (ulong)status;
        mr[1] = (ulong)fault.Offset;
        mr[2] = (ulong)PageSize;
        return new MsgTag(SystemProtocol.PageFault, Words);
    }

    /// <summary>Writes a fault request for the page at <paramref name="offset"/> and returns its tag (the faulting side).</summary>
    internal static MsgTag Request(Utcb utcb, ulong dataspaceId, long offset, bool isWrite)
    {
        Span<ulong> mr = utcb.Mr;
        mr[0] = dataspaceId;
        mr[1] = (ulong)offset;
        mr[2] = isWrite ? 1UL : 0UL;
        return new MsgTag(SystemProtocol.PageFault, Words);
    }

    /// <summary>
    /// Checks a pager's reply to the fault at <paramref name="offset"/> (read once from the registers into locals):
    /// the pager's status, or <see cref="L4Status.ProtocolViolation"/> for anything but a well-formed reply for that page.
    /// </summary>
    internal static L4Status CheckReply(MsgTag tag, Utcb utcb, long offset)
    {
        if (tag.Protocol != SystemProtocol.PageFault || tag.Words != Words || tag.Items != 0)
        {
            return L4Status.ProtocolViolation;
        }

        Span<ulong> mr = utcb.Mr;
        ulong status = mr[0], placed = mr[1], length = mr[2];
        return status switch
        {
            (ulong)L4Status.Ok => placed == (ulong)offset && length == PageSize ? L4Status.Ok : L4Status.ProtocolViolation,
            (ulong)L4Status.Aborted or (ulong)L4Status.NoRights or (ulong)L4Status.InvalidArgument => (L4Status)status,
            _ => L4Status.ProtocolViolation,
        };
    }
}
