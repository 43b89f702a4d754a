using System.Text.Json;
using L4Rt.Protocol;
using Msg = L4Rt.Protocol.Messages;

namespace L4Rt.Broker.Kernel;

internal sealed partial class BrokerKernel
{
    /// <summary>The socket path and allowed uids in effect (defaults resolved), as status reports them.</summary>
    internal (string SocketPath, uint[] AllowedUids) Endpoint { get; set; } = ("", []);

    /// <summary>Whether <paramref name="task"/> may see the whole broker: its uid is an operator uid (default: the broker's own).</summary>
    private bool IsOperator(TaskObject task) =>
        _options.OperatorUids.Length > 0 ? Array.IndexOf(_options.OperatorUids, task.Uid) >= 0 : task.Uid == Interop.Libc.Process.GetUid();

    /// <summary>
    /// What the broker holds (<c>l4rt status</c>). An operator sees every task and object; any other task sees
    /// itself and the objects it created or holds a capability to (no information leaks through global names).
    /// Labels and other tasks' slot numbers are left out for everyone.
    /// </summary>
    private byte[] StatusJson(TaskObject asker)
    {
        bool all = IsOperator(asker);
        HashSet<KernelObject> visible = [];
        if (!all)
        {
            visible.UnionWith(asker.Created);
            visible.UnionWith(asker.Space.All.Select(c => c.Object));
            visible.Add(asker.RootFactory);
        }

        List<ThreadObject> threads = [];
        List<GateObject> gates = [];
        List<IrqObject> irqs = [];
        List<FactoryObject> factories = [];
        List<ChannelObject> channels = [];
        List<DataspaceObject> dataspaces = [];
        foreach (TaskObject task in _tasks.Values)
        {
            if (all || task == asker)
            {
                factories.Add(task.RootFactory);
            }

            foreach (KernelObject obj in task.Created)
            {
                if (!all && !visible.Contains(obj))
                {
                    continue;
                }

                switch (obj)
                {
                    case ThreadObject t: threads.Add(t); break;
                    case GateObject g: gates.Add(g); break;
                    case IrqObject i: irqs.Add(i); break;
                    case FactoryObject f: factories.Add(f); break;
                    case ChannelObject c: channels.Add(c); break;
                    case DataspaceObject d: dataspaces.Add(d); break;
                }
            }
        }

        var status = new
        {
            broker = new { pid = Environment.ProcessId, socket = Endpoint.SocketPath, allowedUids = Endpoint.AllowedUids, view = all ? "operator" : "task", pendingNameQueries = all ? _pendingQueries.Count : _pendingQueries.Count(q => q.Task == asker) },
            tasks = _tasks.Values.Where(t => all || t == asker).OrderBy(t => t.Id).Select(t => new
            {
                id = t.Id,
                pid = t.Pid,
                uid = t.Uid,
                name = t.Name,
                capabilities = t.Space.Count,
                receivedFlexpages = t.Mappings.Count,
                sendLinks = t.SendLinks.Count,
                controlCalls = t.ControlCalls,
                note = t.Note,
                quota = new { bytes = t.RootFactory.QuotaBytes, usedBytes = t.RootFactory.UsedBytes, objects = t.RootFactory.QuotaObjects, usedObjects = t.RootFactory.UsedObjects },
            }),
            threads = threads.Select(t => new { id = t.Id, task = t.Creator!.Id, gates = t.Gates.Count, irqs = t.Irqs.Count }),
            gates = gates.Select(g => new { id = g.Id, task = g.Creator!.Id, thread = g.Thread.Id, links = g.Links.Count }),
            irqs = irqs.Select(i => new { id = i.Id, task = i.Creator!.Id, thread = i.Thread.Id, triggersThroughBroker = i.Triggers }),
            channels = channels.Select(c => new { id = c.Id, task = c.Creator!.Id, capacity = c.Region.Capacity, producer = c.Producer?.Id, consumer = c.Consumer?.Id }),
            dataspaces = dataspaces.Select(d => new
            {
                id = d.Id,
                task = d.Creator!.Id,
                size = d.Size,
                capabilities = d.Caps.Count,
                mappings = d.Attached.Count,
                paged = d.Pager is { } pager ? new { gate = pager.Object.Id, faultTimeoutMs = d.FaultTimeoutMs, tasksWithPager = d.PagerCaps.Count(p => !p.Key.Destroyed), backingMappings = d.BackingAttaches } : null,
            }),
            factories = factories.Select(f => new { id = f.Id, task = f.Creator?.Id, bytes = f.QuotaBytes, usedBytes = f.UsedBytes, objects = f.QuotaObjects, usedObjects = f.UsedObjects }),
            names = _namespace.Entries.Values.Select(e => new { name = e.Name, kind = e.Held.Object.Kind.ToString(), rights = e.Rights.ToString(), registrant = e.Registrant.Id }),
        };
        return JsonSerializer.SerializeToUtf8Bytes(status);
    }

    private uint _nextSnapshot;

    /// <summary>
    /// One chunk of a status snapshot (see <see cref="Msg.Status"/>). Snapshot 0 takes a new one, kept by the
    /// asking task (one at a time) until its last chunk is read or the task asks for a new one.
    /// </summary>
    private Msg.Status.Reply Status(TaskObject task, Msg.Status.Request request)
    {
        (uint snapshot, int offset) = request;
        if (snapshot == 0)
        {
            task.StatusSnapshot = StatusJson(task);
            task.StatusSnapshotId = ++_nextSnapshot == 0 ? ++_nextSnapshot : _nextSnapshot;
            snapshot = task.StatusSnapshotId;
        }

        byte[] json = snapshot == task.StatusSnapshotId && task.StatusSnapshot is { } kept
            ? kept
            : throw new L4RtException(L4Status.Aborted, $"status snapshot {snapshot} is no longer held (a newer one was taken, or it was read to the end); ask again from offset 0");
        if (offset < 0 || offset > json.Length)
        {
            throw new L4RtException(L4Status.ProtocolViolation, $"offset {offset} is outside the {json.Length}-byte status snapshot");
        }

        int length = Math.Min(Msg.Status.ChunkSize, json.Length - offset);
        if (offset + length == json.Length)
        {
            task.StatusSnapshot = null; // read to the end: released
        }

        return new(snapshot, json.Length, json.AsMemory(offset, length));
    }

    /// <summary>A task's note for operators: kept as it came (the frame decoder bounded and checked it), shown in the status.</summary>
    private static Msg.Empty TaskNote(TaskObject task, Msg.TaskNote.Request request)
    {
        task.Note = request.Note;
        return default;
    }
}
