using System.Collections.Concurrent;
using System.Diagnostics;
using L4Rt.Bridge.Wire;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;

namespace L4Rt.Bridge;

/// <summary>
/// The exporting side's stand-ins for gates that crossed from one importing peer as handles: one local gate per handle
/// (its label the handle), all served by one thread of the bridge, which sends each call back over the stream as a
/// <see cref="Callback"/> and answers with its outcome. A server calls a proxy as it would the real gate: the reply, a
/// dropped reply, <c>ReceiveTimeout</c> and <c>DestinationDeleted</c> keep their meaning. The proxies end with the stream.
/// </summary>
internal sealed partial class ProxyGates : IAsyncDisposable
{
    private readonly ExportSession _session;
    private readonly ConcurrentDictionary<ulong, Gate> _proxies = new();
    private readonly PendingCall _pending = new();
    private readonly Lock _starting = new();
    private L4Thread? _thread;
    private Thread? _server;
    private ulong _nextId;
    private volatile bool _stopping;

    internal ProxyGates(ExportSession session) => _session = session;

    /// <summary>
    /// The proxy for <paramref name="handle"/> (made on first use), mapped into a call by the worker that calls the server
    /// (it may block on the broker). Not Ok: the status to refuse the call with (the peer's handles beyond the limit, quota).
    /// </summary>
    internal L4Status GateFor(GateHandle handle, out Gate proxy)
    {
        if (_proxies.TryGetValue(handle.Handle, out proxy!))
        {
            return L4Status.Ok;
        }

        if (_proxies.Count >= GateHandles.MaxHandles || handle.Handle == 0 || _stopping)
        {
            return L4Status.QuotaExceeded;
        }

        try
        {
            L4Task task = _session.Bridge.Task;
            lock (_starting)
            {
                if (_thread is null)
                {
                    _thread = task.CreateThreadAsync().GetAwaiter().GetResult();
                    _server = new Thread(Serve) { IsBackground = true, Name = $"l4rt-bridge proxies {_session.Peer}" };
                    _server.Start();
                }
            }

            proxy = task.Factory.CreateGateAsync(_thread, label: handle.Handle).GetAwaiter().GetResult();
            _proxies[handle.Handle] = proxy;
            return L4Status.Ok;
        }
        catch (L4RtException e)
        {
            return e.Status;
        }
    }

    /// <summary>The rights a server gets on a proxy: send, and map when the caller mapped its gate with the map right.</summary>
    internal static CapRights RightsFor(GateHandle handle) => CapRights.Send | ((CapRights)handle.Rights & CapRights.Map);

    /// <summary>The importer's answer to a callback.</summary>
    internal void Complete(CallbackOutcome outcome) => _pending.Complete(outcome.Id, outcome.Status, outcome.Tag, outcome.Words);

    /// <summary>The server loop: each call on a proxy goes back to the importer; the outcome is the reply.</summary>
    private void Serve()
    {
        L4Thread thread = _thread!;
        IpcResult msg = thread.Wait(L4Timeout.Never);
        while (!_stopping && msg.Status is not (L4Status.Aborted or L4Status.BrokerLost))
        {
            if (!msg.IsOk || msg.Tag.Protocol < 0)
            {
                msg = thread.Wait(L4Timeout.Never); // a caller's link ended, or a system message: nothing to answer
                continue;
            }

            Callback callback = new() { Handle = msg.Label, Tag = new MsgTag(msg.Tag.Protocol, msg.Tag.Words).Raw, OneWay = !thread.HasReplyCapability };
            ReadOnlySpan<ulong> mr = thread.Utcb.Mr;
            for (int i = 0; i < msg.Tag.Words; i++)
            {
                callback.Words.Add(mr[i]);
            }

            if (callback.OneWay)
            {
                _session.Post(new ExportFrame { Callback = callback });
                msg = thread.Wait(L4Timeout.Never);
                continue;
            }

            L4Timeout remaining = thread.CallerReceiveTimeout;
            long took = Stopwatch.GetTimestamp();
            callback.Id = ++_nextId;
            callback.TimeoutNs = remaining.Nanoseconds;
            _pending.Begin(callback.Id);
            if (!_session.Post(new ExportFrame { Callback = callback }))
            {
                _pending.Fail(L4Status.DestinationDeleted);
            }

            if (!_pending.Wait(remaining))
            {
                msg = thread.Wait(L4Timeout.Never); // the caller gave up already (ReceiveTimeout)
                continue;
            }

            switch (_pending.Status)
            {
                case L4Status.Ok:
                    _pending.Words.CopyTo(thread.Utcb.Mr);
                    msg = thread.ReplyAndWait(_pending.Tag, L4Timeout.Never);
                    continue;
                case L4Status.ReceiveTimeout or L4Status.SendTimeout:
                    PendingCall.SleepUntil(took, remaining); // the caller's own timer ends its wait, as locally
                    break;
                case L4Status.DestinationDeleted or L4Status.InvalidCapability:
                    // The real gate is gone (or the link): delete the proxy before waiting again, so the caller sees DestinationDeleted.
                    if (_proxies.TryRemove(msg.Label, out Gate? gone))
                    {
                        ExportedName.DeleteQuietly(gone).GetAwaiter().GetResult();
                    }

                    break;
            }

            msg = thread.Wait(L4Timeout.Never); // anything else: the caller sees ReplyDropped
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _pending.Fail(L4Status.DestinationDeleted);
        _thread?.Abort();
        _server?.Join(TimeSpan.FromSeconds(5));
        foreach (Gate proxy in _proxies.Values)
        {
            await ExportedName.DeleteQuietly(proxy).ConfigureAwait(false);
        }

        _proxies.Clear();
        _thread?.Dispose();
        _pending.Dispose();
    }
}
