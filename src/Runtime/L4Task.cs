using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Memory;
using L4Rt.Objects;
using L4Rt.Protocol;

namespace L4Rt;

/// <summary>
/// This process as a task of the broker: its capability space (seen through <see cref="Capability"/> objects),
/// its <see cref="Factory"/>, the <see cref="Names"/> service, and the threads it creates. It joins through
/// <see cref="ConnectAsync"/>; from then on it holds only the capabilities it was given. If the broker dies,
/// every blocked operation of its threads returns <see cref="L4Status.BrokerLost"/>.
/// </summary>
public sealed partial class L4Task : IDisposable, IAsyncDisposable
{
    private readonly ControlConnection _connection;
    private readonly ConcurrentDictionary<int, L4Thread> _threads = new();
    private readonly ConcurrentDictionary<L4Thread, byte> _senders = new();
    private readonly ConcurrentDictionary<SendLink, byte> _sendLinks = new();
    private readonly ConditionalWeakTable<Irq, object?> _irqs = new(); // weak, and left when deleted or found dead: the list only holds live IRQs
    private readonly ConditionalWeakTable<Channels.ChannelEndpoint, object?> _channelEnds = new(); // weak: a dropped end is not kept alive
    private readonly ConcurrentDictionary<DataspaceMapping, byte> _mappings = new(); // until disposed: revocation must reach them
    private readonly long[] _revoked = new long[256];
    private int _revokedNext;
    private int _lost;
    private int _disposed;

    private L4Task(ControlConnection connection) => _connection = connection;

    /// <summary>The broker's id for this task (for status displays; capabilities never use it).</summary>
    public int Id { get; private set; }

    /// <summary>The broker's process id.</summary>
    public int BrokerPid { get; private set; }

    /// <summary>A capability to this task itself (the target of <see cref="Capability.MapToAsync"/> when others map into us).</summary>
    public Capability Self { get; private set; } = null!;

    /// <summary>This task's factory (its quota).</summary>
    public Factory Factory { get; private set; } = null!;

    /// <summary>The name service.</summary>
    public NameService Names { get; private set; } = null!;

    /// <summary>True once the broker connection was lost.</summary>
    public bool IsBrokerLost => Volatile.Read(ref _lost) != 0;

    /// <summary>Raised (on a background thread) when the broker is lost.</summary>
    public event Action? BrokerLost;

    /// <summary>
    /// Connects to the broker and joins as a task. While no broker listens yet it keeps trying for
    /// <see cref="L4TaskOptions.ConnectTimeout"/> without holding a thread; <paramref name="cancellationToken"/> ends the wait
    /// (and the join) with an <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<L4Task> ConnectAsync(L4TaskOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new L4TaskOptions();
        ControlConnection connection = await ControlConnection.ConnectAsync(options.SocketPath, options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        L4Task task = new(connection);
        connection.Notification = task.OnNotification;
        connection.Lost = task.OnBrokerLost;
        try
        {
            Protocol.Messages.Hello.Reply joined;
            using (CancellationTokenSource joinLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                joinLimit.CancelAfter(options.JoinTimeout);
                try
                {
                    joined = await task.RequestAsync(new Protocol.Messages.Hello.Request(ProtocolLimits.ProtocolVersion, options.Name), "join the broker", joinLimit.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new L4RtException(L4Status.BrokerLost, $"the broker at {options.SocketPath} took the connection but did not answer the join within {options.JoinTimeout.TotalSeconds:0.#} s (is it stopped, or not accepting connections?)");
                }
            }

            task.Id = joined.TaskId;
            task.Self = new Capability(task, joined.TaskSlot, CapKind.Task, CapRights.Map | CapRights.Write);
            task.Factory = new Factory(task, joined.FactorySlot, CapRights.All);
            task.Names = new NameService(task, joined.NamespaceSlot, CapRights.Send | CapRights.Write);
            task.BrokerPid = joined.BrokerPid;
            return task;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Creates a receiving thread (a broker object charged to this task's factory); gates and IRQs bind to it.</summary>
    public Task<L4Thread> CreateThreadAsync(CancellationToken cancellationToken = default) => CreateThreadAsync(Factory, cancellationToken);

    /// <summary>Synchronous <see cref="CreateThreadAsync(CancellationToken)"/>.</summary>
    public L4Thread CreateThread() => CreateThreadAsync().GetAwaiter().GetResult();

    internal async Task<L4Thread> CreateThreadAsync(Factory factory, CancellationToken cancellationToken)
    {
        L4Thread thread = new() { IsBrokerManaged = true };
        try
        {
            (int slot, int id) = await RequestAsync(new Protocol.Messages.CreateThread.Request(factory.Slot, thread.Doorbell.Handle), "create thread", cancellationToken).ConfigureAwait(false);
            L4ThreadExtensions.SetCapability(thread, new Capability(this, slot, CapKind.Thread, CapRights.All));
            thread.BrokerId = id;
            thread.ItemTransfer = this;
            _threads[id] = thread;
            thread.Disposed += t => ThreadDisposed(id, t);
            if (IsBrokerLost)
            {
                thread.Abort(L4Status.BrokerLost);
            }

            return thread;
        }
        catch
        {
            thread.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The capability at <paramref name="slot"/> of this task's space as a typed object (<see cref="Gate"/>,
    /// <see cref="Channel"/>, <see cref="Irq"/>, <see cref="Dataspace"/>, …) with its rights, as the broker knows it:
    /// how a capability another task mapped into this one (<see cref="Capability.MapToAsync"/> returns the slot, which
    /// that task passes on, e.g. in a message word) becomes usable. An empty slot fails with <see cref="L4Status.InvalidCapability"/>.
    /// </summary>
    public async Task<Capability> GetCapabilityAsync(int slot, CancellationToken cancellationToken = default)
    {
        Protocol.Messages.CapInfo.Reply info = await RequestAsync(new Protocol.Messages.CapInfo.Request(slot), $"describe slot {slot}", cancellationToken).ConfigureAwait(false);
        return Capability.Create(this, slot, info.Kind, info.Rights);
    }

    /// <summary>
    /// As <see cref="GetCapabilityAsync(int, CancellationToken)"/>, expecting a <typeparamref name="T"/>: a slot naming
    /// another kind of object fails with <see cref="L4RtException"/> (<see cref="L4Status.InvalidCapability"/>) saying which it names.
    /// </summary>
    public async Task<T> GetCapabilityAsync<T>(int slot, CancellationToken cancellationToken = default)
        where T : Capability
    {
        Capability cap = await GetCapabilityAsync(slot, cancellationToken).ConfigureAwait(false);
        return cap.As<T>($"slot {slot}");
    }

    /// <summary>
    /// Sets the short text operators see beside this task in <c>l4rt status</c> (its <c>note</c>), e.g. what a gate bridge
    /// exports to which peers; at most 4096 bytes of UTF-8, empty for none. The broker only shows it.
    /// </summary>
    public Task SetNoteAsync(string note, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(note);
        if (System.Text.Encoding.UTF8.GetByteCount(note) > Protocol.Messages.TaskNote.MaxBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(note), $"a task note holds at most {Protocol.Messages.TaskNote.MaxBytes} bytes of UTF-8");
        }

        return RequestAsync(new Protocol.Messages.TaskNote.Request(note), "set the task's note", cancellationToken);
    }

    /// <summary>Operator status of the whole broker, as JSON (what <c>l4rt status</c> shows).</summary>
    /// <remarks>The broker takes one snapshot and hands it out in frame-sized chunks; any size of state fits.</remarks>
    public async Task<string> GetBrokerStatusJsonAsync(CancellationToken cancellationToken = default)
    {
        uint snapshot = 0;
        int total = -1;
        System.Buffers.ArrayBufferWriter<byte> json = new();
        do
        {
            Protocol.Messages.Status.Reply page = await RequestAsync(new Protocol.Messages.Status.Request(snapshot, json.WrittenCount), "status", cancellationToken).ConfigureAwait(false);
            if (page.Total < 0 || (total >= 0 && (page.Snapshot != snapshot || page.Total != total)) || page.Chunk.Length > page.Total - json.WrittenCount || (page.Chunk.Length == 0 && json.WrittenCount < page.Total))
            {
                throw new L4RtException(L4Status.ProtocolViolation, $"the broker's status page does not continue the snapshot (snapshot {page.Snapshot}, {page.Total} bytes, chunk of {page.Chunk.Length} at {json.WrittenCount})");
            }

            (snapshot, total) = (page.Snapshot, page.Total);
            System.Buffers.BuffersExtensions.Write(json, page.Chunk.Span);
        }
        while (json.WrittenCount < total);

        return System.Text.Encoding.UTF8.GetString(json.WrittenSpan);
    }

    internal Task<ControlResponse> CallAsync(Opcode opcode, Payload? payload, CancellationToken cancellationToken = default, params System.Runtime.InteropServices.SafeHandle[] fds)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _connection.CallAsync(opcode, payload, fds, cancellationToken);
    }

    /// <summary>
    /// A blocking control call (for data-plane threads: no thread-pool hop) that gives up with
    /// <see cref="L4Status.SendTimeout"/> after <paramref name="timeout"/>; a later answer goes to <paramref name="late"/>.
    /// </summary>
    internal ControlResponse Call(Opcode opcode, Payload? payload, TimeSpan timeout, Action<ControlResponse>? late = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _connection.Call(opcode, payload, timeout, late: late);
    }

    /// <summary>Remembers a thread that sends through our gates, so broker loss can wake it.</summary>
    internal void TrackSender(L4Thread thread, SendLink link)
    {
        _senders.TryAdd(thread, 0);
        _sendLinks.TryAdd(link, 0);
        if (IsBrokerLost)
        {
            thread.Abort(L4Status.BrokerLost);
        }
    }

    /// <summary>A sending thread is gone and its link closed.</summary>
    internal void UntrackSender(L4Thread thread, SendLink link)
    {
        _senders.TryRemove(thread, out _);
        _sendLinks.TryRemove(link, out _);
    }

    /// <summary>Remembers an IRQ this task triggers directly (it holds mappings), so disposing the task unmaps it.</summary>
    internal void TrackIrq(Irq irq) => _irqs.AddOrUpdate(irq, null);

    internal void UntrackIrq(Irq irq) => _irqs.Remove(irq);

    /// <summary>IRQs tracked now (tests).</summary>
    internal int TrackedIrqCount => ((IEnumerable<KeyValuePair<Irq, object?>>)_irqs).Count();

    /// <summary>Remembers a channel end, so broker loss can end its waits; only as long as its user holds it.</summary>
    internal void TrackChannel(Channels.ChannelEndpoint endpoint) => _channelEnds.AddOrUpdate(endpoint, null);

    /// <summary>Remembers a dataspace mapping until it is disposed, so a revocation of its capability reaches it.</summary>
    internal DataspaceMapping TrackMapping(DataspaceMapping mapping)
    {
        _mappings.TryAdd(mapping, 0);
        return mapping;
    }

    internal void UntrackMapping(DataspaceMapping mapping) => _mappings.TryRemove(mapping, out _);

    /// <summary>Whether the broker revoked the capability of <paramref name="token"/> lately (a mapping made just now checks).</summary>
    internal bool WasRevoked(long token)
    {
        lock (_revoked)
        {
            return Array.IndexOf(_revoked, token) >= 0;
        }
    }

    /// <summary>The last revoked tokens: only a mapping whose attach reply was still being handled can need one.</summary>
    private void RememberRevoked(long token)
    {
        lock (_revoked)
        {
            _revoked[(uint)_revokedNext++ % (uint)_revoked.Length] = token;
        }
    }

    private PageFaultHandler? _pageFaults;

    /// <summary>This process's page-fault thread, started with the first paged mapping or pager backing.</summary>
    internal PageFaultHandler PageFaults
    {
        get
        {
            if (Volatile.Read(ref _pageFaults) is { } existing)
            {
                return existing;
            }

            lock (_mappings)
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
                return _pageFaults ??= PageFaultHandler.Create(this);
            }
        }
    }

    /// <summary>Mappings still held (tests).</summary>
    internal int MappingCount => _mappings.Count;

    /// <summary>Whether <paramref name="endpoint"/> is tracked for broker loss (tests).</summary>
    internal bool IsTrackingChannel(Channels.ChannelEndpoint endpoint) => _channelEnds.TryGetValue(endpoint, out _);

    private void ThreadDisposed(int id, L4Thread thread)
    {
        _threads.TryRemove(id, out _);
        if (!IsBrokerLost && Volatile.Read(ref _disposed) == 0 && thread.Capability is { } cap)
        {
            _ = cap.DeleteAsync().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default); // the broker releases its gates and IRQs
        }
    }

    /// <summary>A link or IRQ region the broker bound to one of our threads: mapped and installed, or refused.</summary>
    private void InstallEndpoint(int threadId, int index, ulong label, Microsoft.Win32.SafeHandles.SafeFileHandle fd, bool isIrq)
    {
        LinkRegion region = LinkRegion.Attach(fd);
        if (!_threads.TryGetValue(threadId, out L4Thread? thread))
        {
            region.Dispose();
            throw new L4RtException(L4Status.DestinationDeleted, $"thread {threadId} is gone");
        }

        thread.InstallEndpoint(index, region, label, isIrq);
    }

    /// <summary>Notifications from the broker, on the control reader thread.</summary>
    private void OnNotification(Opcode opcode, uint id, byte[] payload, List<SafeFdHandle> fds)
    {
        L4Status status = L4Status.Ok;
        try
        {
            FrameReader reader = new(payload);
            switch (opcode)
            {
                case Opcode.NewLink:
                {
                    Protocol.Messages.NewLink.Notification note = Protocol.Messages.NewLink.Notification.Read(ref reader, fds);
                    InstallEndpoint(note.ThreadId, note.Index, note.Label, note.Region, isIrq: false);
                    break;
                }

                case Opcode.NewIrq:
                {
                    Protocol.Messages.NewIrq.Notification note = Protocol.Messages.NewIrq.Notification.Read(ref reader, fds);
                    InstallEndpoint(note.ThreadId, note.Index, note.Label, note.Region, isIrq: true);
                    break;
                }

                case Opcode.EndpointClosed:
                {
                    Protocol.Messages.EndpointClosed.Notification note = Protocol.Messages.EndpointClosed.Notification.Read(ref reader, fds);
                    if (_threads.TryGetValue(note.ThreadId, out L4Thread? thread))
                    {
                        thread.RemoveEndpoint(note.Index);
                    }

                    return;
                }

                case Opcode.DataspaceRevoked:
                {
                    Protocol.Messages.DataspaceRevoked.Notification note = Protocol.Messages.DataspaceRevoked.Notification.Read(ref reader, fds);
                    RememberRevoked(note.Token); // first: a mapping whose reply is still on its way checks this after it maps
                    foreach (DataspaceMapping mapping in _mappings.Keys)
                    {
                        if (mapping.Token == note.Token)
                        {
                            mapping.Revoke();
                        }
                    }

                    return;
                }

                default:
                    return; // Shutdown: EOF follows and is reported as broker loss
            }
        }
        catch (L4RtException e)
        {
            status = e.Status;
        }
        catch (IOException)
        {
            status = L4Status.ProtocolViolation;
        }
        finally
        {
            foreach (SafeFdHandle fd in fds)
            {
                fd.Dispose();
            }
        }

        _connection.Acknowledge(opcode, id, status);
    }

    private void OnBrokerLost()
    {
        if (Interlocked.Exchange(ref _lost, 1) != 0 || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        foreach (L4Thread thread in _threads.Values)
        {
            thread.Abort(L4Status.BrokerLost);
        }

        foreach (L4Thread thread in _senders.Keys)
        {
            thread.Abort(L4Status.BrokerLost);
        }

        foreach (SendLink link in _sendLinks.Keys)
        {
            link.WakeSender(); // a sender asleep on its link wakes, sees the abort and returns BrokerLost
        }

        // Without the broker nobody would report the other end's death: end the channels' waits now.
        foreach (KeyValuePair<Channels.ChannelEndpoint, object?> end in (IEnumerable<KeyValuePair<Channels.ChannelEndpoint, object?>>)_channelEnds)
        {
            if (!end.Key.IsDisposed)
            {
                end.Key.MarkPeerDead();
            }
        }

        BrokerLost?.Invoke();
    }

    /// <summary>Leaves the broker: it releases every object, capability, name and byte of quota this task held.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_mappings)
        {
            _pageFaults?.Dispose(); // first: no thread stays blocked on a fault of a paged mapping
        }

        _connection.Dispose();
        foreach (SendLink link in _sendLinks.Keys)
        {
            link.Dispose();
        }

        foreach (KeyValuePair<Irq, object?> irq in (IEnumerable<KeyValuePair<Irq, object?>>)_irqs)
        {
            irq.Key.Close();
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
