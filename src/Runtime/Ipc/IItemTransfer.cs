namespace L4Rt.Ipc;

/// <summary>
/// The slow path of a message with typed items (<see cref="MsgTag.Items"/>), as the data plane sees it. The words still
/// travel through the link; the items go through the broker, which is the one party both sides trust. The sender offers
/// the items for the message (seq) it is about to post; the receiver, having seen the post, asks the broker to accept
/// them into its buffer registers; whichever of accept and withdraw reaches the broker first decides whether the
/// message is delivered. Implemented above this layer (by the task), so <c>L4Rt.Ipc</c> knows nothing of broker objects.
/// </summary>
internal interface IItemTransfer
{
    /// <summary>
    /// Offers the items of message <paramref name="seq"/> on <paramref name="link"/> (their descriptors in
    /// <paramref name="items"/>); the broker checks each capability and its rights. Not <see cref="L4Status.Ok"/>: nothing is posted.
    /// </summary>
    L4Status Offer(SendLink link, int seq, ReadOnlySpan<ulong> items);

    /// <summary>The sender gives up on message <paramref name="seq"/>: true when withdrawn (never delivered), false when the receiver already accepted it.</summary>
    bool Withdraw(SendLink link, int seq);

    /// <summary>
    /// The receiver accepts the items of message <paramref name="seq"/> on <paramref name="link"/> into the buffer registers of
    /// <paramref name="receiver"/>, writing what arrived into its message registers after the words.
    /// <see cref="L4Status.Ok"/>: delivered; <see cref="L4Status.SendTimeout"/>: the sender withdrew it meanwhile (nothing happened);
    /// <see cref="L4Status.ProtocolViolation"/>: the broker holds no such offer (a forged message); any other status:
    /// refused (no room, a capability gone), nothing delivered, and the sender learns that status.
    /// </summary>
    L4Status Accept(L4Thread receiver, ReceiveLink link, int seq, MsgTag tag);

    /// <summary>
    /// The server <paramref name="replier"/> offers the items of its reply to call <paramref name="seq"/> on
    /// <paramref name="link"/>; the broker checks each capability and its rights. Not <see cref="L4Status.Ok"/>: the reply
    /// must not be posted (the caller still waits; the reply capability is kept).
    /// </summary>
    L4Status OfferReply(L4Thread replier, ReceiveLink link, int seq, ReadOnlySpan<ulong> items);

    /// <summary>
    /// The caller <paramref name="caller"/> accepts the items of the reply to its call <paramref name="seq"/> on
    /// <paramref name="link"/> into its buffer registers, writing what arrived into its message registers after the words.
    /// <see cref="L4Status.Ok"/>: delivered; <see cref="L4Status.ProtocolViolation"/>: the broker holds no such offer (a
    /// forged reply); any other status: refused (no room, a capability gone), nothing delivered.
    /// </summary>
    L4Status AcceptReply(L4Thread caller, SendLink link, int seq, MsgTag tag);
}
