namespace L4Rt.Ipc;

/// <summary>
/// The link's State word: <c>seq &lt;&lt; 4 | code</c>. The sender starts each message with a new seq, so
/// a stale party (a replier whose caller gave up, a receiver whose sender withdrew) fails its CAS instead
/// of acting on a newer message.
/// <code>
///  sender:   Idle/Taken/Replied/ReplyDropped/Rejected ──write slot, post──► Posted | PostedCall
///  receiver: sees Posted*, copies the slot, then CAS (seq, Posted*) ► Taken (send) | AwaitingReply (call)
///  receiver: writes the reply slot, then CAS (seq, AwaitingReply) ► Replied
///            CAS (seq, AwaitingReply) ► ReplyDropped when its next wait starts without a reply
///  sender, on timeout: CAS (seq, Posted*) ► Idle (withdrawn) · CAS (seq, AwaitingReply) ► Idle (abandoned)
///  with items: the broker accepted them first (see IItemTransfer); receiver: CAS (seq, Posted*) ► ItemsRefused
///            when the broker refused them, the status in the reply slot's tag word
/// </code>
/// Copy first, commit by CAS: a receiver whose copy raced a withdrawal (and a new message being written)
/// fails its CAS and discards the copy, like a seqlock reader. Every commit is a CAS from the exact
/// (seq, code) observed, so of two racing parties exactly one wins: a timed-out send is never delivered,
/// a reply is delivered once or refused.
/// </summary>
internal static class LinkState
{
    internal const int Idle = 0;
    internal const int Posted = 1;
    internal const int PostedCall = 2;
    internal const int Taken = 4;
    internal const int AwaitingReply = 5;
    internal const int Replied = 7;
    internal const int ReplyDropped = 8;
    internal const int Rejected = 9;
    internal const int ItemsRefused = 10;

    internal static int Code(int state) => state & 0xF;

    internal static int Seq(int state) => (int)((uint)state >> 4);

    internal static int Make(int seq, int code) => (seq << 4) | code;
}
