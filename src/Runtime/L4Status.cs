namespace L4Rt;

/// <summary>
/// The one status vocabulary of the runtime. Hot-path IPC operations return it; control-plane calls throw
/// <see cref="L4RtException"/> carrying it.
/// </summary>
public enum L4Status
{
    /// <summary>The operation completed.</summary>
    Ok = 0,

    /// <summary>The receiver did not take the message within the send timeout; the message was withdrawn, never delivered.</summary>
    SendTimeout,

    /// <summary>No message (or reply) arrived within the receive timeout. A <c>L4Thread.Sleep</c> ends this way.</summary>
    ReceiveTimeout,

    /// <summary>The partner (receiver, gate, link or caller) no longer exists: it was deleted or its process died.</summary>
    DestinationDeleted,

    /// <summary>The operation was cancelled locally (the thread or its task is being torn down).</summary>
    Aborted,

    /// <summary>The capability lacks the right needed for this operation.</summary>
    NoRights,

    /// <summary>The capability slot is empty, or names an object of another kind.</summary>
    InvalidCapability,

    /// <summary>The factory's byte or object quota does not allow the creation; nothing was created.</summary>
    QuotaExceeded,

    /// <summary>No name-service entry of that name exists (within the wait time).</summary>
    NameNotFound,

    /// <summary>The broker process is gone; every blocked operation returns this.</summary>
    BrokerLost,

    /// <summary>The peer wrote something the protocol forbids (a corrupt frame, index, length or tag).</summary>
    ProtocolViolation,

    /// <summary>
    /// The receiver dropped the reply capability of this call (it started its next wait without replying),
    /// so no reply will ever come. Returned at once instead of waiting for the receive timeout.
    /// </summary>
    ReplyDropped,

    /// <summary>
    /// A request's argument is outside its documented range (a channel capacity that is not a power of two in
    /// range, a negative quota, a name with characters names may not have); nothing was changed.
    /// </summary>
    InvalidArgument,

    /// <summary>What the request would create is already there: the name is registered, or the channel end is taken.</summary>
    AlreadyExists,

    /// <summary>
    /// The caller's destination is smaller than the next record (the copying channel read); the reported length
    /// is the size needed and the record stays unread. A local outcome only: it never travels in a broker frame.
    /// </summary>
    BufferTooSmall,

    /// <summary>
    /// A message's typed item found no room at the receiver: no receive capability slot left in its buffer registers,
    /// or a flexpage larger than what is left of its receive window. Nothing was delivered, the words included.
    /// </summary>
    NoReceiveBuffer,

    /// <summary>
    /// The peer speaks another contract, or another version of it (see <c>L4Rt.Contracts.ContractProtocol</c>): the
    /// server refused the request unread. The error names the contract and version each side speaks.
    /// </summary>
    ProtocolMismatch,

    /// <summary>
    /// A channel contract's operation came in a state that does not allow it (see <c>L4Rt.Contracts.L4RtStateAttribute</c>):
    /// the server refused it unread and the channel stays in its state.
    /// </summary>
    OutOfState,

    /// <summary>The server's handler failed on this request (it threw): no result came, and what it did before is not known.</summary>
    ServerFault,
}
