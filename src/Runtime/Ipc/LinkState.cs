namespace L4Rt.Ipc;

/// <summary>
/// The link's State word: <c>seq &lt;&lt; 4 | code</c>. The sender starts each message with a new seq, so
/// a stale party (a replier whose caller gave up, a receiver whose sender withdrew) fails its CAS instead
/// of acting on a newer message.
/// <code>
///  sender:   Idle/Taken/Replied/ReplyDropped/Rejected ──post──► Posted | PostedCall
///  receiver: Posted|PostedCall ──CAS──► Receiving ──copy──► CAS ► Taken (send) | AwaitingReply (call)
///  receiver: AwaitingReply ──CAS──► Replying ──write──► CAS ► Replied
///            AwaitingReply ──CAS (next wait starts)──► ReplyDropped
///  sender, on timeout: CAS Posted*|Receiving ► Idle (send withdrawn) · CAS AwaitingReply|Replying ► Idle (call abandoned)
/// </code>
/// Every step that commits a message is a CAS from the exact (seq, code) the party observed, so exactly
/// one of two racing parties wins: a timed-out send is never delivered, a reply is delivered once or not at all.
/// </summary>
internal static class LinkState
{
    internal const int Idle = 0;
    internal const int Posted = 1;
    internal const int PostedCall = 2;
    internal const int Receiving = 3;
    internal const int Taken = 4;
    internal const int AwaitingReply = 5;
    internal const int Replying = 6;
    internal const int Replied = 7;
    internal const int ReplyDropped = 8;
    internal const int Rejected = 9;

    internal static int Code(int state) => state & 0xF;

    internal static int Seq(int state) => (int)((uint)state >> 4);

    internal static int Make(int seq, int code) => (seq << 4) | code;
}
