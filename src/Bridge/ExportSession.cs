using System.Collections.Concurrent;
using Google.Protobuf.Collections;
using Grpc.Core;
using L4Rt.Bridge.Wire;
using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.Bridge;

/// <summary>
/// One importing peer's stream at the exporter: the names granted to it, each resolved in the local name service and
/// called by a worker of its own (calls to one name are served in order, as by one L4 server thread), and one writer
/// for the outgoing frames. Everything it holds ends with the stream.
/// </summary>
internal sealed partial class ExportSession : IAsyncDisposable
{
    private readonly BridgeTask _bridge;
    private readonly BridgeOptions _options;
    private readonly string _peer;
    private readonly IServerStreamWriter<ExportFrame> _responses;
    private readonly ILogger _logger;
    private readonly System.Threading.Channels.Channel<ExportFrame> _out =
        System.Threading.Channels.Channel.CreateBounded<ExportFrame>(new System.Threading.Channels.BoundedChannelOptions(4096) { SingleReader = true });
    private readonly ExportedName?[] _names;
    private readonly CancellationTokenSource _stop = new();

    internal ExportSession(BridgeTask bridge, BridgeOptions options, string peer, RepeatedField<string> names, IServerStreamWriter<ExportFrame> responses, ILogger logger)
    {
        _bridge = bridge;
        _options = options;
        _peer = peer;
        _responses = responses;
        _logger = logger;
        Proxies = new ProxyGates(this);
        _names = new ExportedName?[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            string name = names[i];
            bool exported = options.Exports.Any(e => e.Name == name && e.Peers.Contains(peer, StringComparer.Ordinal));
            _names[i] = exported ? new ExportedName(this, (uint)i, name) : null;
        }
    }

    internal int GrantedCount => _names.Count(n => n is not null);

    internal async Task RunAsync(IAsyncStreamReader<ImportFrame> requests, CancellationToken cancellationToken)
    {
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        CancellationToken ct = linked.Token;
        Task writer = WriteAsync(ct);
        Welcome welcome = new();
        foreach (ExportedName? n in _names)
        {
            welcome.Grants.Add(new Grant { Exported = n is not null });
        }

        Post(new ExportFrame { Welcome = welcome });
        foreach (ExportedName n in _names.OfType<ExportedName>())
        {
            n.Start(ct);
        }

        try
        {
            while (await requests.MoveNext(ct).ConfigureAwait(false))
            {
                ImportFrame frame = requests.Current;
                switch (frame.KindCase)
                {
                    case ImportFrame.KindOneofCase.CallbackOutcome:
                        Proxies.Complete(frame.CallbackOutcome);
                        break;
                    case ImportFrame.KindOneofCase.Ping:
                        Post(new ExportFrame { Pong = new Pong { Nonce = frame.Ping.Nonce } });
                        break;
                    case ImportFrame.KindOneofCase.Request:
                        Request request = frame.Request;
                        ExportedName? target = request.Name < _names.Length ? _names[request.Name] : null;
                        if (target is null)
                        {
                            // Only a peer that ignores its Welcome asks for a name it was not granted.
                            Answer(request, L4Status.InvalidCapability);
                        }
                        else if (!target.Enqueue(request))
                        {
                            Answer(request, L4Status.SendTimeout); // a peer flooding one name beyond what it can have in flight
                        }

                        break;
                    default:
                        throw new RpcException(new Status(StatusCode.InvalidArgument, $"unexpected frame {frame.KindCase} after the Hello"));
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the peer went away, or the bridge stops
        }
        catch (IOException)
        {
            // the connection broke
        }
        finally
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            _out.Writer.TryComplete();
            try
            {
                await writer.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException or RpcException)
            {
                // the stream is gone: nothing more can be said to the peer
            }
        }
    }

    internal BridgeTask Bridge => _bridge;

    /// <summary>The importer's gates that crossed as handles, as proxy gates here.</summary>
    internal ProxyGates Proxies { get; }

    internal BridgeOptions Options => _options;

    internal string Peer => _peer;

    internal ILogger Logger => _logger;

    /// <summary>Queues a frame for the peer; false once the session is over (or the peer reads nothing and the queue is full).</summary>
    internal bool Post(ExportFrame frame) => _out.Writer.TryWrite(frame);

    internal void Answer(Request request, L4Status status) =>
        Post(new ExportFrame { Outcome = new Outcome { Id = request.Id, Status = (int)status } });

    private async Task WriteAsync(CancellationToken ct)
    {
        await foreach (ExportFrame frame in _out.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            await _responses.WriteAsync(frame, ct).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (ExportedName n in _names.OfType<ExportedName>())
        {
            await n.DisposeAsync().ConfigureAwait(false);
        }

        await Proxies.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>
/// One exported name for one peer: the capability found under it (re-found after its server dies), and the worker
/// thread that makes the peer's calls, sends and triggers on it with an <see cref="L4Thread"/> of its own.
/// </summary>
internal sealed partial class ExportedName : IAsyncDisposable
{
    private const int MaxQueued = 256;
    private const int MaxTriggersPerRequest = 4096;

    private readonly ExportSession _session;
    private readonly uint _index;
    private readonly string _name;
    private readonly BlockingCollection<Request> _queue = new(MaxQueued);
    private readonly L4Thread _thread = new();
    private Thread? _worker;
    private Task? _resolver;
    private volatile Capability? _capability;
    private TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ExportedName(ExportSession session, uint index, string name)
    {
        _session = session;
        _index = index;
        _name = name;
    }

    internal void Start(CancellationToken ct)
    {
        _worker = new Thread(Work) { IsBackground = true, Name = $"l4rt-bridge export {_name}" };
        _worker.Start();
        _resolver = ResolveAsync(ct);
    }

    internal bool Enqueue(Request request) => !_queue.IsAddingCompleted && _queue.TryAdd(request);

    /// <summary>Finds the name (waiting for it), tells the peer, and after its object is gone finds it again.</summary>
    private async Task ResolveAsync(CancellationToken ct)
    {
        L4Task task = _session.Bridge.Task;
        while (!ct.IsCancellationRequested)
        {
            Capability found;
            try
            {
                found = await task.Names.QueryAsync(_name, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (L4RtException e) when (e.Status == L4Status.ReceiveTimeout)
            {
                continue; // not registered (yet): keep waiting
            }
            catch (L4RtException e)
            {
                LogResolveFailed(_session.Logger, _name, e.Status);
                await Task.Delay(_session.Options.DetectionTime, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // the loop ends on cancellation
                continue;
            }

            if (found is not Gate and not Irq and not Channel)
            {
                LogNotBridgeable(_session.Logger, _name, found.Kind.ToString());
                _session.Post(new ExportFrame { NameState = new NameState { Name = _index, Available = false, Kind = found.Kind.ToString() } });
                await found.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromSeconds(5), ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            Volatile.Write(ref _lost, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            _capability = found;
            _session.Post(new ExportFrame { NameState = new NameState { Name = _index, Available = true, Kind = found.Kind.ToString() } });
            await Volatile.Read(ref _lost).Task.WaitAsync(ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _capability = null;
            if (ct.IsCancellationRequested)
            {
                await DeleteQuietly(found).ConfigureAwait(false);
                return;
            }

            _session.Post(new ExportFrame { NameState = new NameState { Name = _index, Available = false } });
            await DeleteQuietly(found).ConfigureAwait(false);
            // The broker removes a dead server's names as it learns of the death; give it a moment before asking again.
            await Task.Delay(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    internal static async Task DeleteQuietly(Capability capability)
    {
        try
        {
            await capability.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (L4RtException)
        {
            // already gone with its object
        }
    }

    private void Work()
    {
        foreach (Request request in _queue.GetConsumingEnumerable())
        {
            Capability? target = _capability;
            L4Status status = target is null ? L4Status.DestinationDeleted : Execute(target, request);
            if (status == L4Status.DestinationDeleted && target is not null)
            {
                Volatile.Read(ref _lost).TrySetResult();
            }

            if (status != L4Status.Ok)
            {
                BridgeMetrics.Error(_name, "export", status);
                if (request.Kind == RequestKind.Call && target is null)
                {
                    _session.Answer(request, status);
                }
            }
        }
    }

    /// <summary>Makes one request on the local object; a call's outcome goes to the peer. Returns the local status.</summary>
    private L4Status Execute(Capability target, Request request)
    {
        BridgeMetrics.Message(_name, "export");
        if (request.Kind == RequestKind.Trigger)
        {
            if (target is not Irq irq)
            {
                return L4Status.InvalidCapability;
            }

            ulong count = request.Words.Count > 0 ? Math.Clamp(request.Words[0], 1, MaxTriggersPerRequest) : 1;
            L4Status triggered = L4Status.Ok;
            for (ulong i = 0; i < count && triggered == L4Status.Ok; i++)
            {
                triggered = irq.Trigger();
            }

            return triggered;
        }

        if (target is not Gate gate)
        {
            return Refuse(request, L4Status.InvalidCapability);
        }

        // The peer's bytes: a tag that decodes, a user protocol, the words it says, and as items only the copied
        // flexpages it carries (object items cannot cross hosts; memory items only copied, for a call).
        bool copies = request.Items.Any(i => i.KindCase == Item.KindOneofCase.Memory);
        if (!MsgTag.TryDecode(request.Tag, out MsgTag tag) || tag.Protocol < 0 || request.Words.Count != tag.Words || tag.Items != request.Items.Count
            || request.Items.Any(i => i.KindCase == Item.KindOneofCase.None)
            || (copies && ((tag.Flags & MsgTagFlags.CopyMemory) == 0 || request.Kind != RequestKind.Call)))
        {
            return Refuse(request, L4Status.InvalidArgument);
        }

        Span<ulong> mr = _thread.Utcb.Mr;
        for (int i = 0; i < tag.Words; i++)
        {
            mr[i] = request.Words[i];
        }

        L4Timeout timeout = L4Timeout.FromEncoded(request.TimeoutNs); // the peer's value: any is a valid timeout
        List<(Dataspace Pages, bool Writable)> lent = [];
        try
        {
            L4Status placed = PlaceItems(request, tag, mr, lent);
            if (placed != L4Status.Ok)
            {
                return Refuse(request, placed);
            }

            if (request.Kind == RequestKind.Send)
            {
                return _thread.Send(gate, new MsgTag(tag.Protocol, tag.Words, tag.Items), L4Timeout.FromTimeSpan(_session.Options.SendTimeout)).Status;
            }

            IpcResult r = _thread.Call(gate, new MsgTag(tag.Protocol, tag.Words, tag.Items), timeout, timeout);
            Outcome outcome = new() { Id = request.Id, Status = (int)r.Status };
            if (r.IsOk)
            {
                outcome.Tag = r.Tag.Raw;
                for (int i = 0; i < r.Tag.Words; i++)
                {
                    outcome.Words.Add(mr[i]);
                }

                foreach ((Dataspace pages, bool writable) in lent.Where(c => c.Writable))
                {
                    using DataspaceMapping after = pages.MapAsync(Protocol.CapRights.Read).GetAwaiter().GetResult();
                    outcome.Memory.Add(Google.Protobuf.ByteString.CopyFrom(after.ReadOnlySpan)); // the server's changes go back to the caller's pages
                }
            }

            _session.Post(new ExportFrame { Outcome = outcome });
            return r.Status;
        }
        finally
        {
            foreach ((Dataspace pages, bool _) in lent)
            {
                DeleteQuietly(pages).GetAwaiter().GetResult(); // the lend ends with the call: the server's mapping is revoked
            }
        }
    }

    /// <summary>
    /// The request's items, after the words: a copied flexpage becomes a fresh dataspace of the bridge holding the caller's
    /// bytes, lent to the server (read-only or read-write as the caller lent it; deleted when the call returns); a gate
    /// handle becomes the session's proxy gate for it, mapped with send (and map) rights. Not Ok: the status to refuse with.
    /// </summary>
    private L4Status PlaceItems(Request request, MsgTag tag, Span<ulong> mr, List<(Dataspace Pages, bool Writable)> lent)
    {
        long total = 0;
        foreach (Item item in request.Items.Where(i => i.KindCase == Item.KindOneofCase.Memory))
        {
            if (item.Memory.Data.Length == 0 || item.Memory.Data.Length % PageFault.PageSize != 0)
            {
                return L4Status.InvalidArgument;
            }

            total += item.Memory.Data.Length;
        }

        if (total > _session.Options.MaxCopyBytes)
        {
            return L4Status.NoReceiveBuffer; // more than this bridge copies per message (or copying is off here)
        }

        try
        {
            for (int i = 0; i < request.Items.Count; i++)
            {
                Span<ulong> at = mr[(tag.Words + (2 * i))..];
                if (request.Items[i].KindCase == Item.KindOneofCase.Gate)
                {
                    GateHandle handle = request.Items[i].Gate;
                    L4Status proxied = _session.Proxies.GateFor(handle, out Gate proxy);
                    if (proxied != L4Status.Ok)
                    {
                        return proxied;
                    }

                    MsgItem.Map(proxy, ProxyGates.RightsFor(handle)).WriteTo(at);
                    continue;
                }

                MemoryCopy copy = request.Items[i].Memory;
                Dataspace pages = _session.Bridge.Task.Factory.CreateDataspaceAsync(copy.Data.Length).GetAwaiter().GetResult();
                lent.Add((pages, copy.Writable));
                using (DataspaceMapping mine = pages.MapAsync(Protocol.CapRights.Write).GetAwaiter().GetResult())
                {
                    copy.Data.Span.CopyTo(mine.Span);
                }

                MsgItem.Flexpage(pages, 0, copy.Data.Length, copy.Writable ? Protocol.CapRights.Write : Protocol.CapRights.Read).WriteTo(at);
            }
        }
        catch (L4RtException e)
        {
            return e.Status; // e.g. the bridge's quota: the caller learns it as the call's outcome
        }

        return L4Status.Ok;
    }

    private L4Status Refuse(Request request, L4Status status)
    {
        if (request.Kind == RequestKind.Call)
        {
            _session.Answer(request, status);
        }

        return status;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.CompleteAdding();
        _thread.Abort(); // a call without timeout in progress returns now
        _worker?.Join();
        if (_resolver is not null)
        {
            await _resolver.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_capability is { } held)
        {
            await DeleteQuietly(held).ConfigureAwait(false);
        }

        _thread.Dispose();
        _queue.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "cannot look up exported name '{Name}': {Status}")]
    private static partial void LogResolveFailed(ILogger logger, string name, L4Status status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "exported name '{Name}' is a {Kind}; only gates, IRQs and channels are bridged")]
    private static partial void LogNotBridgeable(ILogger logger, string name, string kind);
}
