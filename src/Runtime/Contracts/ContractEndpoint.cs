using System.Runtime.CompilerServices;
using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.Contracts;

/// <summary>
/// Where a generated contract client sends: a calling <see cref="L4Thread"/> (whose <see cref="Utcb.Mr"/> the client
/// marshals into) and a <see cref="Gate"/> or a direct <see cref="SendLink"/>, with the timeout of each operation.
/// Like the thread, it is used by one OS thread at a time.
/// </summary>
public sealed class ContractEndpoint
{
    private readonly Gate? _gate;
    private readonly SendLink? _link;

    /// <summary>Calls through <paramref name="gate"/> from <paramref name="thread"/>, each phase within <paramref name="timeout"/>.</summary>
    public ContractEndpoint(L4Thread thread, Gate gate, L4Timeout timeout)
        : this(thread, timeout, gate ?? throw new ArgumentNullException(nameof(gate)), null)
    {
    }

    /// <summary>Calls through the direct <paramref name="link"/> from <paramref name="thread"/>, each phase within <paramref name="timeout"/>.</summary>
    public ContractEndpoint(L4Thread thread, SendLink link, L4Timeout timeout)
        : this(thread, timeout, null, link ?? throw new ArgumentNullException(nameof(link)))
    {
    }

    private ContractEndpoint(L4Thread thread, L4Timeout timeout, Gate? gate, SendLink? link)
    {
        ArgumentNullException.ThrowIfNull(thread);
        Thread = thread;
        Timeout = timeout;
        _gate = gate;
        _link = link;
    }

    /// <summary>The calling thread: requests are marshalled into its message registers and replies read from them.</summary>
    public L4Thread Thread { get; }

    /// <summary>The send and the receive timeout of each operation.</summary>
    public L4Timeout Timeout { get; set; }

    /// <summary>
    /// Where flexpages an operation returns are mapped (a window of this task, see <see cref="L4Task.CreateReceiveWindow"/>);
    /// null: an operation returning a <see cref="Flexpage"/> fails with <see cref="L4Status.NoReceiveBuffer"/> without calling.
    /// An operation returning a capability or a flexpage sets the thread's buffer registers for its call and clears them after.
    /// </summary>
    public ReceiveWindow? ReceiveWindow { get; set; }

    /// <summary>The message registers of <see cref="Thread"/>.</summary>
    public Span<ulong> Mr
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Thread.Utcb.Mr;
    }

    /// <summary>Calls with <paramref name="tag"/> and the words (and items) in <see cref="Mr"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public IpcResult Call(MsgTag tag) => _gate is not null ? Thread.Call(_gate, tag, Timeout) : Thread.Call(_link!, tag, Timeout);

    /// <summary>Sends (one way) with <paramref name="tag"/> and the words (and items) in <see cref="Mr"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public IpcResult Send(MsgTag tag) => _gate is not null ? Thread.Send(_gate, tag, Timeout) : Thread.Send(_link!, tag, Timeout);

    /// <summary>Calls asynchronously (no thread held while the server works) with <paramref name="tag"/> and the words in <see cref="Mr"/>.</summary>
    public ValueTask<IpcResult> CallAsync(MsgTag tag, CancellationToken cancellationToken) => _gate is not null
        ? Thread.CallAsync(_gate, tag, Timeout, cancellationToken)
        : Thread.CallAsync(_link!, tag, Timeout, cancellationToken);
}
