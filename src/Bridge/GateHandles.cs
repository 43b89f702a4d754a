using System.Collections.Concurrent;
using L4Rt.Bridge.Wire;
using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.Bridge;

/// <summary>
/// The importing side's gates that crossed to one peer as handles: a local caller mapped a gate into a call on an
/// imported name; the bridge keeps the capability under a handle of the link, and the exporter gives its server a proxy
/// gate for it. The server's calls on the proxy come back here as callbacks, which one worker makes on the real gate,
/// in order, and answers. Handles live as long as the stream: when it ends they are deleted (the proxies at the exporter
/// with it), and a server that still holds a proxy gets <c>DestinationDeleted</c>.
/// </summary>
internal sealed partial class GateHandles : IDisposable
{
    /// <summary>Receive slots of an imported gate's thread: at most this many gates per message cross.</summary>
    internal const int MaxPerMessage = 4;

    /// <summary>Live handles per link (and proxies per session at the exporter): beyond, a gate item is refused with <c>QuotaExceeded</c>.</summary>
    internal const int MaxHandles = 1024;

    private readonly ImportLink _link;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, Gate> _gates = new();
    private readonly BlockingCollection<Callback> _callbacks = new(256);
    private readonly Thread _worker;
    private long _next;

    internal GateHandles(ImportLink link, ILogger logger)
    {
        _link = link;
        _logger = logger;
        _worker = new Thread(Work) { IsBackground = true, Name = $"l4rt-bridge callbacks {link.Peer}" };
        _worker.Start();
    }

    /// <summary>Keeps <paramref name="gate"/> under a new handle; 0 when the table is full.</summary>
    internal ulong Add(Gate gate)
    {
        if (_gates.Count >= MaxHandles)
        {
            return 0;
        }

        ulong handle = (ulong)Interlocked.Increment(ref _next);
        _gates[handle] = gate;
        return handle;
    }

    /// <summary>A callback from the exporter (its server called a proxy), made by the worker in arrival order.</summary>
    internal void Enqueue(Callback callback)
    {
        if (!_callbacks.IsAddingCompleted && !_callbacks.TryAdd(callback) && !callback.OneWay)
        {
            Answer(callback.Id, L4Status.SendTimeout, null); // a peer flooding callbacks beyond what one worker has queued
        }
    }

    /// <summary>The stream ended: every handle's capability is deleted (the exporter's proxies ended with the stream).</summary>
    internal async Task ResetAsync()
    {
        foreach (ulong handle in _gates.Keys)
        {
            await DropAsync(handle).ConfigureAwait(false);
        }
    }

    /// <summary>Forgets a handle and deletes its capability from the bridge's space.</summary>
    private async Task DropAsync(ulong handle)
    {
        if (_gates.TryRemove(handle, out Gate? gate))
        {
            await ExportedName.DeleteQuietly(gate).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _callbacks.CompleteAdding();
        _worker.Join(TimeSpan.FromSeconds(5));
    }

    private void Work()
    {
        using L4Thread me = new();
        foreach (Callback callback in _callbacks.GetConsumingEnumerable())
        {
            Make(me, callback);
        }
    }

    /// <summary>One callback on the real gate; a call's outcome goes back to the exporter.</summary>
    private void Make(L4Thread me, Callback callback)
    {
        // The peer's bytes: a handle we gave it, a tag of words only and a user protocol, the words it says.
        if (!_gates.TryGetValue(callback.Handle, out Gate? gate))
        {
            Answer(callback.Id, callback.OneWay ? null : L4Status.InvalidCapability, null);
            return;
        }

        if (!MsgTag.TryDecode(callback.Tag, out MsgTag tag) || tag.Items != 0 || tag.Protocol < 0 || callback.Words.Count != tag.Words)
        {
            Answer(callback.Id, callback.OneWay ? null : L4Status.InvalidArgument, null);
            return;
        }

        Span<ulong> mr = me.Utcb.Mr;
        for (int i = 0; i < tag.Words; i++)
        {
            mr[i] = callback.Words[i];
        }

        if (callback.OneWay)
        {
            L4Status sent = me.Send(gate, tag, L4Timeout.FromTimeSpan(_link.Options.SendTimeout)).Status;
            if (sent != L4Status.Ok)
            {
                LogCallbackFailed(_logger, _link.Peer, sent);
            }

            return;
        }

        L4Timeout timeout = L4Timeout.FromEncoded(callback.TimeoutNs); // the peer's value: any is a valid timeout
        IpcResult r = me.Call(gate, tag, timeout, timeout);
        Answer(callback.Id, r.Status, r.IsOk ? me : null, r.Tag);
        if (r.Status == L4Status.DestinationDeleted)
        {
            DropAsync(callback.Handle).GetAwaiter().GetResult(); // its server is gone: the next call on the proxy learns it at once
        }
    }

    /// <summary>Sends a call's outcome (nothing for <paramref name="status"/> null): with <paramref name="replied"/>, its reply tag and words from that thread's registers.</summary>
    private void Answer(ulong id, L4Status? status, L4Thread? replied, MsgTag reply = default)
    {
        if (status is not { } s)
        {
            return;
        }

        CallbackOutcome outcome = new() { Id = id, Status = (int)s };
        if (replied is not null)
        {
            outcome.Tag = reply.Raw;
            ReadOnlySpan<ulong> mr = replied.Utcb.Mr;
            for (int i = 0; i < reply.Words; i++)
            {
                outcome.Words.Add(mr[i]);
            }
        }

        _link.Post(new ImportFrame { CallbackOutcome = outcome });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "a one-way callback from peer '{Peer}' could not be sent: {Status}")]
    private static partial void LogCallbackFailed(ILogger logger, string peer, L4Status status);
}
