using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Msg = L4Rt.Protocol.Messages;

namespace L4Rt.Broker.Kernel;

internal sealed partial class BrokerKernel
{
    private readonly List<PendingQuery> _pendingQueries = [];

    private sealed class PendingQuery(TaskObject task, uint requestId, string name)
    {
        internal TaskObject Task { get; } = task;

        internal uint RequestId { get; } = requestId;

        internal string Name { get; } = name;

        internal Timer? Timer { get; set; }
    }

    /// <summary>A name's characters (its length was checked on arrival, before it was decoded).</summary>
    private static string ValidName(string name)
    {
        return ProtocolLimits.IsValidName(name)
            ? name
            : throw new L4RtException(L4Status.InvalidArgument, $"'{name}' is not a valid name (1–{ProtocolLimits.MaxNameLength} of A–Z a–z 0–9 . _ - / :, not starting with / or .)");
    }

    private Empty NameRegister(TaskObject task, Msg.NameRegister.Request request)
    {
        Expect<NamespaceObject>(Lookup(task, request.Namespace), CapRights.Write);
        Capability source = Lookup(task, request.Capability);
        CapRights rights = request.Rights;
        string name = ValidName(request.Name);
        if (!source.Has(CapRights.Map))
        {
            throw new L4RtException(L4Status.NoRights, $"slot {source.Slot} lacks the map right needed to register it");
        }

        if (_namespace.Entries.TryGetValue(name, out NameEntry? existing))
        {
            throw new L4RtException(L4Status.AlreadyExists, $"'{name}' is already registered by task {existing.Registrant.Id}");
        }

        // A name costs its registrant one object of quota: no task can grow the name service without bound.
        task.RootFactory.Charge(0, 1);

        // The name service holds a capability derived from the registrant's: revoking that revokes the entry.
        Capability held = new(source.Object, source.Rights & rights & ~CapRights.Delete, null, source);
        NameEntry entry = new(name, held, held.Rights, task, task.RootFactory);
        held.Entry = entry;
        source.Children.Add(held);
        source.Object.Caps.Add(held);
        _namespace.Entries[name] = entry;
        BrokerLog.NameRegistered(_log, name, task.Id);

        foreach (PendingQuery query in _pendingQueries.Where(q => q.Name == name).ToList())
        {
            _pendingQueries.Remove(query);
            query.Timer?.Dispose();
            SendDeferred(query.Task, Opcode.NameQuery, query.RequestId, Reply.Of(Answer(query.Task, entry)));
        }

        return default;
    }

    private Reply NameQuery(uint requestId, TaskObject task, Msg.NameQuery.Request request)
    {
        Expect<NamespaceObject>(Lookup(task, request.Namespace), CapRights.Send);
        int timeoutMs = request.TimeoutMs;
        string name = ValidName(request.Name);
        if (_namespace.Entries.TryGetValue(name, out NameEntry? entry))
        {
            return Reply.Of(Answer(task, entry));
        }

        if (timeoutMs == 0)
        {
            throw new L4RtException(L4Status.NameNotFound, $"'{name}' is not registered");
        }

        PendingQuery query = new(task, requestId, name);
        _pendingQueries.Add(query);
        if (timeoutMs > 0)
        {
            query.Timer = new Timer(_ => ExpireQuery(query), null, timeoutMs, Timeout.Infinite);
        }

        return Reply.Later;
    }

    /// <summary>The task stopped waiting for one of its queries: it leaves the pending list (and its timer stops).</summary>
    private Empty Cancel(TaskObject task, Msg.Cancel.Request request)
    {
        PendingQuery? query = _pendingQueries.Find(q => q.Task == task && q.RequestId == request.RequestId);
        if (query is not null)
        {
            _pendingQueries.Remove(query);
            query.Timer?.Dispose();
        }

        return default;
    }

    private void ExpireQuery(PendingQuery query)
    {
        lock (_lock)
        {
            if (_pendingQueries.Remove(query))
            {
                query.Timer?.Dispose();
                SendDeferred(query.Task, Opcode.NameQuery, query.RequestId, Reply.Error(L4Status.NameNotFound, $"'{query.Name}' was not registered within the timeout"));
            }
        }
    }

    private static Msg.NameQuery.Reply Answer(TaskObject task, NameEntry entry)
    {
        Capability derived = MapInto(entry.Held, entry.Rights, task); // the same path as an object item in a message
        return new(derived.Slot, derived.Object.Kind, derived.Rights);
    }

    private Empty NameUnregister(TaskObject task, Msg.NameUnregister.Request request)
    {
        Expect<NamespaceObject>(Lookup(task, request.Namespace), CapRights.Write);
        string name = ValidName(request.Name);
        if (!_namespace.Entries.TryGetValue(name, out NameEntry? entry))
        {
            throw new L4RtException(L4Status.NameNotFound, $"'{name}' is not registered");
        }

        if (entry.Registrant != task)
        {
            throw new L4RtException(L4Status.NoRights, $"'{name}' was registered by another task");
        }

        // Capabilities already handed out stay valid: they move under the registrant's own capability.
        Capability held = entry.Held;
        foreach (Capability child in held.Children.ToList())
        {
            held.Children.Remove(child);
            child.Parent = held.Parent;
            held.Parent?.Children.Add(child);
        }

        RemoveCapability(held);
        return default;
    }

    /// <summary>One page of names after the one the client last saw, as many as fit a frame (see <see cref="Msg.NameList"/>).</summary>
    private Msg.NameList.Reply NameList(TaskObject task, Msg.NameList.Request request)
    {
        Expect<NamespaceObject>(Lookup(task, request.Namespace), CapRights.None);
        string after = request.After;
        List<Msg.NameList.Entry> page = [];
        int budget = Msg.NameList.EntryBudget;
        bool more = false;
        foreach (NameEntry entry in _namespace.Entries.Values)
        {
            if (after.Length > 0 && string.CompareOrdinal(entry.Name, after) <= 0)
            {
                continue;
            }

            int size = Msg.NameList.EntrySize(entry.Name);
            if (size > budget)
            {
                more = true;
                break;
            }

            budget -= size;
            page.Add(new(entry.Name, entry.Held.Object.Kind, entry.Rights, (int)entry.Registrant.Id));
        }

        return new(_namespace.Entries.Count, page, more);
    }
}
