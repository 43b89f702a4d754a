using System.Diagnostics;
using Grpc.Core;
using L4Rt.Bridge.Wire;
using L4Rt.Channels;
using L4Rt.Protocol;
using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.Bridge;

/// <summary>
/// One imported name: while the exporter has its object, a local gate (or IRQ) of the bridge's task registered under
/// the local name and served by a thread of its own, which forwards each message to the exporter and answers the local
/// caller with the outcome — the reply, a dropped reply, a timeout, or <c>DestinationDeleted</c> when the remote server
/// or the link is gone (then the local object is deleted and the name unregistered, as when a local server dies; it is
/// registered again, with a new object, once the exporter has the name again).
/// </summary>
internal sealed partial class ImportedName : IAsyncDisposable
{
    private readonly ImportLink _link;
    private readonly uint _index;
    private readonly ImportRule _rule;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _changes = new(1, 1); // availability changes, one at a time
    private readonly PendingCall _pending = new(); // the call the server thread waits for
    private L4Thread? _thread;
    private Thread? _server;
    private Capability? _object; // the local gate or IRQ while available
    private volatile bool _stopping;
    private Channel? _channel; // an imported channel's local ring (kept until the bridge stops)
    private ReceiveWindow? _window; // where flexpages a caller lets us copy arrive (RequiresCopyOptIn)
    private readonly List<DataspaceMapping> _lent = []; // the current message's flexpages, until its outcome
    private Task? _pump;

    internal ImportedName(ImportLink link, uint index, ImportRule rule, ILogger logger)
    {
        _link = link;
        _index = index;
        _rule = rule;
        _logger = logger;
    }

    internal string LocalName => _rule.LocalName;

    internal string Remote => _rule.Remote;

    internal bool IsAvailable => Volatile.Read(ref _object) is not null;

    /// <summary>Creates the serving thread (once, with the bridge's task).</summary>
    internal async Task StartAsync(CancellationToken ct)
    {
        _thread = await _link.Task.CreateThreadAsync(ct).ConfigureAwait(false);
        if (_link.Options.MaxCopyBytes > 0)
        {
            // Flexpages can be copied to the other host, never mapped there: only with the caller's consent (its tag's CopyMemory flag).
            _window = _link.Task.CreateReceiveWindow(_link.Options.MaxCopyBytes);
            _window.RequiresCopyOptIn = true;
        }

        // Gates cross as handles of the link (GateHandles.MaxPerMessage per message).
        _thread.Utcb.SetReceiveBuffers(GateHandles.MaxPerMessage, _window);

        _server = new Thread(Serve) { IsBackground = true, Name = $"l4rt-bridge import {LocalName}" };
        _server.Start();
    }

    /// <summary>The exporter has the object (again): a local one of the same kind, registered under the local name.</summary>
    internal async Task SetAvailableAsync(string kind, CancellationToken ct)
    {
        await _changes.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_object is not null || _stopping || _thread is null)
            {
                return;
            }

            L4Task task = _link.Task;
            if (kind == "Channel")
            {
                await StartChannelAsync(task, ct).ConfigureAwait(false);
                return;
            }

            Capability created = kind switch
            {
                "Gate" => await task.Factory.CreateGateAsync(_thread, label: _index, ct).ConfigureAwait(false),
                "Irq" => await task.Factory.CreateIrqAsync(_thread, label: _index, ct).ConfigureAwait(false),
                _ => throw new InvalidOperationException($"the exporter offers '{Remote}' as a {kind}, which is not bridged"),
            };
            try
            {
                await task.Names.RegisterAsync(LocalName, created, cancellationToken: ct).ConfigureAwait(false);
            }
            catch
            {
                await created.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            Volatile.Write(ref _object, created);
            LogImported(_logger, LocalName, Remote, _link.Peer, kind);
        }
        catch (L4RtException e)
        {
            LogImportFailed(_logger, LocalName, e.Message);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>
    /// An imported channel: a local one of the bridge's task, registered under the local name; the bridge takes the end
    /// its local clients do not (the consumer when they produce) and pumps records over a stream of their own to the
    /// exporter, which takes the other end of the real channel. One stream per import: when either side ends it (the
    /// producer completes or dies, the consumer goes), the local name is unregistered.
    /// </summary>
    private async Task StartChannelAsync(L4Task task, CancellationToken ct)
    {
        if (_pump is { IsCompleted: false })
        {
            return;
        }

        if (_channel is { } previous)
        {
            _channel = null;
            await previous.DeleteAsync(CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        Channel channel = await task.Factory.CreateChannelAsync(_rule.Capacity, ct).ConfigureAwait(false);
        IDisposable end = _rule.LocalProduces
            ? await channel.OpenConsumerAsync(ct).ConfigureAwait(false)
            : await channel.OpenProducerAsync(ct).ConfigureAwait(false);
        AsyncDuplexStreamingCall<ChannelFrame, ChannelFrame>? call = _link.OpenStream();
        if (call is null)
        {
            end.Dispose();
            await channel.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
            return;
        }

        await call.RequestStream.WriteAsync(new ChannelFrame { Open = new StreamOpen { Name = Remote, ToExporter = _rule.LocalProduces } }, ct).ConfigureAwait(false);
        await task.Names.RegisterAsync(LocalName, channel, CapRights.Send | CapRights.Map | CapRights.Read | CapRights.Write, ct).ConfigureAwait(false);
        LogImported(_logger, LocalName, Remote, _link.Peer, _rule.LocalProduces ? "Channel, local clients produce" : "Channel, local clients consume");
        _channel = channel;
        _pump = PumpAsync(channel, end, call);
    }

    private async Task PumpAsync(Channel channel, IDisposable end, AsyncDuplexStreamingCall<ChannelFrame, ChannelFrame> call)
    {
        string how = "the bridged stream ended";
        try
        {
            if (end is ChannelConsumer consumer)
            {
                await ChannelPump.OutAsync(consumer, f => call.RequestStream.WriteAsync(f), CancellationToken.None).ConfigureAwait(false);
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false); // the exporter's end of the call
            }
            else
            {
                await ChannelPump.InAsync(call.ResponseStream, (ChannelProducer)end, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is RpcException or IOException or OperationCanceledException or InvalidOperationException)
        {
            how = $"the bridged stream broke: {(e is RpcException r ? $"{r.StatusCode} {r.Status.Detail}" : e.Message)}";
        }
        finally
        {
            call.Dispose();
            end.Dispose();
            try
            {
                await _link.Task.Names.UnregisterAsync(LocalName).ConfigureAwait(false);
            }
            catch (L4RtException)
            {
                // not registered any more
            }

            LogUnavailable(_logger, LocalName, how);
            // The ring itself stays until the bridge stops (or the next import): local ends still drain what was committed.
        }
    }

    /// <summary>
    /// The remote object or the link is gone: the local object is deleted (a caller waiting on it gets
    /// <c>DestinationDeleted</c>) and the name unregistered. A call in flight is answered so at once.
    /// </summary>
    internal async Task SetUnavailableAsync(string why)
    {
        FailPending(L4Status.DestinationDeleted);
        await _changes.WaitAsync().ConfigureAwait(false);
        try
        {
            Capability? held = Interlocked.Exchange(ref _object, null);
            if (held is null)
            {
                return;
            }

            L4Task task = _link.Task;
            try
            {
                await task.Names.UnregisterAsync(LocalName).ConfigureAwait(false);
            }
            catch (L4RtException)
            {
                // not registered any more
            }

            try
            {
                await held.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (L4RtException)
            {
                // gone with the broker
            }

            LogUnavailable(_logger, LocalName, why);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>An outcome from the exporter, on the link's reading thread.</summary>
    internal void Complete(Outcome outcome) => _pending.Complete(outcome.Id, outcome.Status, outcome.Tag, outcome.Words, outcome.Memory);

    private void FailPending(L4Status status) => _pending.Fail(status);

    /// <summary>The server loop: open wait on the local object, each message forwarded, each call answered as the outcome says.</summary>
    private void Serve()
    {
        L4Thread thread = _thread!;
        IpcResult msg = thread.Wait(L4Timeout.Never);
        while (true)
        {
            if (msg.Status is L4Status.Aborted or L4Status.BrokerLost || _stopping)
            {
                return;
            }

            if (!msg.IsOk)
            {
                msg = thread.Wait(L4Timeout.Never); // a local client's link ended: nothing to answer
                continue;
            }

            if (msg.Tag.Protocol == SystemProtocol.Irq)
            {
                Forward(thread, RequestKind.Trigger, new MsgTag(0, 1), 0, L4Timeout.Zero);
                msg = thread.Wait(L4Timeout.Never);
                continue;
            }

            if (!thread.HasReplyCapability)
            {
                Forward(thread, RequestKind.Send, msg.Tag, 0, L4Timeout.Zero);
                ReturnLent(null);
                msg = thread.Wait(L4Timeout.Never);
                continue;
            }

            msg = Call(thread, msg.Tag);
        }
    }

    /// <summary>
    /// Ends the current message's flexpages: first, after a call's reply, the server's changes to the pages lent read-write
    /// are written back into the caller's (<paramref name="copiedBack"/>, in their order); then each is unmapped.
    /// </summary>
    private void ReturnLent(Google.Protobuf.Collections.RepeatedField<Google.Protobuf.ByteString>? copiedBack)
    {
        int next = 0;
        foreach (DataspaceMapping mapping in _lent)
        {
            if (copiedBack is not null && mapping.IsWritable && next < copiedBack.Count)
            {
                Google.Protobuf.ByteString bytes = copiedBack[next++];
                if (bytes.Length == mapping.Length)
                {
                    bytes.Span.CopyTo(mapping.Span);
                }
            }

            mapping.Dispose();
        }

        _lent.Clear();
    }

    /// <summary>One bridged call, answered to the local caller; returns the next message (the reply-and-wait's or the wait's).</summary>
    private IpcResult Call(L4Thread thread, MsgTag tag)
    {
        L4Timeout remaining = thread.CallerReceiveTimeout;
        long took = Stopwatch.GetTimestamp();
        ulong id = _link.NextId(_index);
        _pending.Begin(id);
        L4Status forwarded = IsAvailable ? Forward(thread, RequestKind.Call, tag, id, remaining) : L4Status.DestinationDeleted;
        if (forwarded != L4Status.Ok)
        {
            FailPending(forwarded);
        }

        bool answered = _pending.Wait(remaining);
        BridgeMetrics.Message(LocalName, "import");
        if (!answered)
        {
            ReturnLent(null);
            BridgeMetrics.Error(LocalName, "import", L4Status.ReceiveTimeout);
            return thread.Wait(L4Timeout.Never); // the caller gave up already (ReceiveTimeout)
        }

        L4Status status = _pending.Status;
        BridgeMetrics.Rtt(LocalName, Stopwatch.GetElapsedTime(took).TotalMicroseconds);
        if (status != L4Status.Ok)
        {
            ReturnLent(null);
        }

        if (status != L4Status.Ok)
        {
            BridgeMetrics.Error(LocalName, "import", status);
        }

        switch (status)
        {
            case L4Status.Ok:
                _pending.Words.CopyTo(thread.Utcb.Mr);
                ReturnLent(_pending.Memory); // before the reply: the caller sees the server's writes when its call returns
                return thread.ReplyAndWait(_pending.Tag, L4Timeout.Never);
            case L4Status.ReceiveTimeout or L4Status.SendTimeout:
                // The remote side timed out at the caller's deadline; let the caller's own timer end its wait, so it
                // sees ReceiveTimeout as it would locally, not a dropped reply.
                PendingCall.SleepUntil(took, remaining);
                return thread.Wait(L4Timeout.Never);
            case L4Status.DestinationDeleted or L4Status.BrokerLost:
                // Delete the gate before waiting again (which would drop the reply): the caller gets DestinationDeleted.
                SetUnavailableAsync("the remote server is gone").GetAwaiter().GetResult();
                return thread.Wait(L4Timeout.Never);
            default:
                // ReplyDropped as locally: wait again without replying. Anything else (a refusal by the exporter) too,
                // after a line in the log: the caller sees ReplyDropped.
                if (status != L4Status.ReplyDropped)
                {
                    LogRefusedCall(_logger, LocalName, status);
                }

                return thread.Wait(L4Timeout.Never);
        }
    }

    /// <summary>
    /// Sends the message on to the exporter: its words, and its items as they can cross — a flexpage copied (only a
    /// caller's CopyMemory lets one arrive here), a gate as a handle of this link (its calls come back as callbacks).
    /// Not Ok: nothing was sent (an item that cannot cross, the link's handle table full, or the link down).
    /// </summary>
    private L4Status Forward(L4Thread thread, RequestKind kind, MsgTag tag, ulong id, L4Timeout timeout)
    {
        Request request = new() { Id = id, Name = _index, Kind = kind, Tag = tag.Raw, TimeoutNs = timeout.Nanoseconds };
        ReadOnlySpan<ulong> mr = thread.Utcb.Mr;
        for (int i = 0; i < tag.Words; i++)
        {
            request.Words.Add(mr[i]);
        }

        L4Status items = L4Status.Ok;
        for (int i = 0; i < tag.Items; i++)
        {
            if (MsgItem.FromRegisters(mr[tag.Words + (2 * i)], mr[tag.Words + (2 * i) + 1]).Kind == MsgItemKind.Memory)
            {
                DataspaceMapping mapping = thread.GetReceivedMapping(i);
                _lent.Add(mapping);
                request.Items.Add(new Item { Memory = new MemoryCopy { Data = Google.Protobuf.ByteString.CopyFrom(mapping.ReadOnlySpan), Writable = mapping.IsWritable } });
                continue;
            }

            Capability received = thread.GetReceivedCapability(i);
            ulong handle = received is Gate gate && items == L4Status.Ok ? _link.Handles.Add(gate) : 0;
            if (handle == 0)
            {
                // Only gates cross as handles (and only while the link's table has room): drop what arrived.
                items = items != L4Status.Ok ? items : received is Gate ? L4Status.QuotaExceeded : L4Status.InvalidArgument;
                _ = received.DeleteAsync(CancellationToken.None).ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
                continue;
            }

            request.Items.Add(new Item { Gate = new GateHandle { Handle = handle, Rights = (uint)received.Rights } });
        }

        if (items != L4Status.Ok)
        {
            LogItemNotBridged(_logger, LocalName, items);
            return items;
        }

        if (kind != RequestKind.Call)
        {
            BridgeMetrics.Message(LocalName, "import");
        }

        return _link.Post(new ImportFrame { Request = request }) ? L4Status.Ok : L4Status.DestinationDeleted;
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        await SetUnavailableAsync("the bridge stops").ConfigureAwait(false);
        if (_pump is not null)
        {
            await _pump.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_channel is { } ring)
        {
            await ring.DeleteAsync(CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        _thread?.Abort();
        _server?.Join();
        _thread?.Dispose();
        _pending.Dispose();
        _changes.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "imported '{Local}' ← '{Remote}' at peer '{Peer}' ({Kind})")]
    private static partial void LogImported(ILogger logger, string local, string remote, string peer, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cannot import '{Local}': {Reason}")]
    private static partial void LogImportFailed(ILogger logger, string local, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "'{Local}' is unavailable: {Why}")]
    private static partial void LogUnavailable(ILogger logger, string local, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the exporter refused a call on '{Local}': {Status}; the caller sees ReplyDropped")]
    private static partial void LogRefusedCall(ILogger logger, string local, L4Status status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "a message on '{Local}' carries an item that cannot cross to the other host ({Status}): not forwarded")]
    private static partial void LogItemNotBridged(ILogger logger, string local, L4Status status);
}
