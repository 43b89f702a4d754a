using L4Rt.Broker.Kernel;
using L4Rt.Memory;
using L4Rt.Protocol;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Properties;

/// <summary>
/// What the kernel should hold, written from the design's rules and the request handlers' contracts, not from
/// their code: objects with what they were charged, capabilities with the one they were derived from, name entries
/// and links. It predicts each request's status; <see cref="KernelRun"/> compares it with the kernel after every step.
/// Slots are the only thing it learns from the kernel (the reply says where a capability landed; the run checks it
/// is the lowest free one).
/// </summary>
internal sealed class KernelModel
{
    internal const long PageSize = ProtocolLimits.PageSize;

    internal KernelModel(int taskQuotaFds) => TaskQuotaFds = taskQuotaFds;

    internal int TaskQuotaFds { get; }

    /// <summary>The name service's one object (every task's namespace capability names it).</summary>
    internal Obj Namespace { get; } = new(CapKind.Namespace, null);

    internal Dictionary<string, Entry> Names { get; } = new(StringComparer.Ordinal);

    /// <summary>Every object ever made, dead ones included (the end of a run checks the kernel destroyed them all).</summary>
    internal List<Obj> Objects { get; } = [];

    /// <summary>An object and what its creation charged (<see cref="Factory"/> is null for a task and a root factory).</summary>
    internal sealed class Obj(CapKind kind, ModelTask? creator)
    {
        internal CapKind Kind { get; } = kind;

        internal ModelTask? Creator { get; } = creator;

        internal KernelObject? Kernel { get; set; }

        internal Obj? Factory { get; init; }

        internal long Bytes { get; init; }

        internal int Objects { get; init; }

        internal int Fds { get; init; }

        internal bool Dead { get; set; }

        /// <summary>For a gate or an IRQ: the thread it is bound to.</summary>
        internal Obj? Thread { get; init; }

        /// <summary>The broker's id of a thread (ItemAccept names the receiving thread by it).</summary>
        internal int ThreadId { get; init; }

        /// <summary>For a factory: its quota, and the factory its own is carved out of (null for a task's root).</summary>
        internal long QuotaBytes { get; init; }

        internal int QuotaObjects { get; init; }

        internal Obj? ParentFactory { get; init; }

        internal List<Cap> Caps { get; } = [];

        /// <summary>What goes with this object: a thread's gates and IRQs, a factory's objects.</summary>
        internal List<Obj> Dependents { get; } = [];

        internal Obj Root => ParentFactory?.Root ?? this;

        public override string ToString() => $"{Kind}{(Kernel is null ? "" : $" {Kernel.Id}")}";
    }

    /// <summary>A capability: in a task's slot, or held by the name service for an entry (<see cref="Name"/>).</summary>
    internal sealed class Cap(Obj obj, CapRights rights, ModelTask? owner, Cap? parent)
    {
        internal Obj Obj { get; } = obj;

        internal CapRights Rights { get; } = rights;

        internal ModelTask? Owner { get; } = owner;

        internal int Slot { get; set; } = -1;

        internal Cap? Parent { get; set; } = parent;

        internal List<Cap> Children { get; } = [];

        internal string? Name { get; init; }

        internal bool Has(CapRights rights) => (Rights & rights) == rights;

        public override string ToString() => Owner is null ? $"name '{Name}'" : $"t{Owner.Index} slot {Slot}";
    }

    internal sealed record Entry(Cap Held, ModelTask Registrant, Obj ChargedTo);

    /// <summary>A sender's link to a gate, opened through one of its capabilities and charged to its root factory.</summary>
    internal sealed class Link(ModelTask sender, Cap through, long id, int index, Obj root)
    {
        internal ModelTask Sender { get; } = sender;

        internal Cap Through { get; } = through;

        internal long Id { get; } = id;

        internal int Index { get; } = index;

        internal Obj ChargedTo { get; } = root;

        internal int Seq { get; set; }
    }

    /// <summary>One connection's task (a task that rejoins is a new one on a new port).</summary>
    internal sealed class ModelTask(int index, RecordingPort port)
    {
        internal int Index { get; } = index;

        internal RecordingPort Port { get; } = port;

        internal bool Alive { get; set; } = true;

        internal Obj Self { get; set; } = null!;

        internal Obj Root { get; set; } = null!;

        internal int NamespaceSlot { get; set; }

        internal SortedDictionary<int, Cap> Slots { get; } = [];

        internal List<Obj> Created { get; } = [];

        internal List<Link> Links { get; } = [];

        internal TaskObject Kernel => Port.Task!;

        internal int LowestFreeSlot()
        {
            int slot = 0;
            while (Slots.ContainsKey(slot))
            {
                slot++;
            }

            return slot;
        }
    }

    /// <summary>A new task as Hello makes it: its own task capability, its root factory, its namespace capability.</summary>
    internal ModelTask Join(int index, RecordingPort port, long quotaBytes, int quotaObjects, (int Self, int Factory, int Namespace) slots)
    {
        ModelTask task = new(index, port);
        task.Self = Add(new Obj(CapKind.Task, null));
        task.Root = Add(new Obj(CapKind.Factory, task) { QuotaBytes = quotaBytes, QuotaObjects = quotaObjects });
        Install(task, new Cap(task.Self, CapRights.Map | CapRights.Write, task, null), slots.Self);
        Install(task, new Cap(task.Root, CapRights.All, task, null), slots.Factory);
        Install(task, new Cap(Namespace, CapRights.Send | CapRights.Write, task, null), slots.Namespace);
        task.NamespaceSlot = slots.Namespace;
        return task;
    }

    internal Obj Add(Obj obj)
    {
        Objects.Add(obj);
        return obj;
    }

    /// <summary>An object made by <paramref name="creator"/> through <paramref name="factory"/>, with its creator's original capability.</summary>
    internal Obj Create(ModelTask creator, Obj obj, int slot)
    {
        Add(obj);
        creator.Created.Add(obj);
        obj.Factory!.Dependents.Add(obj);
        obj.Thread?.Dependents.Add(obj);
        Install(creator, new Cap(obj, CapRights.All, creator, null), slot);
        return obj;
    }

    internal static void Install(ModelTask task, Cap cap, int slot)
    {
        cap.Slot = slot;
        task.Slots.Add(slot, cap);
        cap.Obj.Caps.Add(cap);
        cap.Parent?.Children.Add(cap);
    }

    /// <summary>What a factory has given out: the sum over what is charged to it now (objects, names, links), never a counter.</summary>
    internal (long Bytes, int Objects, int Fds) Used(Obj factory)
    {
        long bytes = 0;
        int objects = 0;
        int fds = 0;
        foreach (Obj obj in Objects)
        {
            if (!obj.Dead && obj.Factory == factory)
            {
                bytes += obj.Bytes;
                objects += obj.Objects;
            }

            if (!obj.Dead && obj.Factory is { } charged && charged.Root == factory)
            {
                fds += obj.Fds;
            }
        }

        objects += Names.Values.Count(e => e.ChargedTo == factory);
        foreach (Link link in LiveLinks().Where(l => l.ChargedTo == factory))
        {
            bytes += LinkLayout.RegionSize;
            fds++;
        }

        return (bytes, objects, fds);
    }

    internal IEnumerable<Link> LiveLinks() => Tasks.Where(t => t.Alive).SelectMany(t => t.Links);

    /// <summary>Every task ever joined (filled by the run).</summary>
    internal List<ModelTask> Tasks { get; } = [];

    /// <summary>The status a creation through <paramref name="factory"/> gets once its capabilities passed: quota first, then descriptors.</summary>
    internal L4Status Charge(Obj factory, long bytes, int objects, int fds)
    {
        (long usedBytes, int usedObjects, _) = Used(factory);
        if (bytes > factory.QuotaBytes - usedBytes || objects > factory.QuotaObjects - usedObjects)
        {
            return L4Status.QuotaExceeded;
        }

        return fds > 0 && fds > TaskQuotaFds - Used(factory.Root).Fds ? L4Status.QuotaExceeded : L4Status.Ok;
    }

    /// <summary>What a request that takes a capability of <paramref name="kind"/> needing <paramref name="rights"/> gets.</summary>
    internal static L4Status Expect(Cap? cap, CapKind kind, CapRights rights) =>
        cap is null || cap.Obj.Kind != kind ? L4Status.InvalidCapability : cap.Has(rights) ? L4Status.Ok : L4Status.NoRights;

    /// <summary>Delete: the original capability with the delete right destroys the object; any other goes with what was derived from it.</summary>
    internal void Delete(Cap cap)
    {
        if (cap.Has(CapRights.Delete) && cap.Parent is null && cap.Obj.Kind is not CapKind.Task and not CapKind.Namespace)
        {
            Destroy(cap.Obj);
        }
        else
        {
            Remove(cap);
        }
    }

    /// <summary>Revocation: a capability goes with everything derived from it, and so do the links opened through it and the entry it holds.</summary>
    internal void Remove(Cap cap)
    {
        foreach (Cap child in cap.Children.ToList())
        {
            Remove(child);
        }

        if (cap.Owner is { } owner)
        {
            foreach (Link link in owner.Links.Where(l => l.Through == cap).ToList())
            {
                owner.Links.Remove(link);
            }

            owner.Slots.Remove(cap.Slot);
        }

        cap.Obj.Caps.Remove(cap);
        cap.Parent?.Children.Remove(cap);
        if (cap.Name is { } name && Names.TryGetValue(name, out Entry? entry) && entry.Held == cap)
        {
            Names.Remove(name);
        }
    }

    /// <summary>An object dies: every capability naming it, what goes with it, and its charge returns to its factory.</summary>
    internal void Destroy(Obj obj)
    {
        if (obj.Dead)
        {
            return;
        }

        obj.Dead = true;
        foreach (Cap cap in obj.Caps.ToList())
        {
            Remove(cap);
        }

        foreach (Obj dependent in obj.Dependents.ToList())
        {
            Destroy(dependent);
        }

        if (obj.Kind == CapKind.Gate)
        {
            foreach (ModelTask task in Tasks)
            {
                task.Links.RemoveAll(l => l.Through.Obj == obj);
            }
        }

        obj.Factory?.Dependents.Remove(obj);
        obj.Thread?.Dependents.Remove(obj);
        obj.Creator?.Created.Remove(obj);
    }

    /// <summary>
    /// Task death: its links, the objects it created, its root factory (and so everything charged to it), every
    /// capability it holds with what was derived from them, and the names it registered (entries die with their registrant).
    /// </summary>
    internal void Kill(ModelTask task)
    {
        task.Links.Clear();
        foreach (Obj obj in task.Created.ToList())
        {
            Destroy(obj);
        }

        Destroy(task.Root);
        foreach (Cap cap in task.Slots.Values.ToList())
        {
            if (task.Slots.ContainsValue(cap))
            {
                Remove(cap);
            }
        }

        foreach (Entry entry in Names.Values.Where(e => e.Registrant == task).ToList())
        {
            Remove(entry.Held);
        }

        task.Alive = false;
        task.Self.Dead = true;
    }

    /// <summary>
    /// Grant: the capability moves (with fewer rights, perhaps); what was derived from it stays derived, now from the
    /// moved one — except what holds a right the moved one lacks, which is revoked (rights never grow along a path).
    /// The moved capability is returned not yet installed.
    /// </summary>
    internal Cap Grant(Cap source, CapRights rights, ModelTask target)
    {
        Cap moved = new(source.Obj, source.Rights & rights, target, source.Parent);
        foreach (Cap child in source.Children.ToList())
        {
            if ((child.Rights & ~moved.Rights) != 0)
            {
                Remove(child);
                continue;
            }

            child.Parent = moved;
            moved.Children.Add(child);
        }

        source.Children.Clear();
        ModelTask owner = source.Owner!;
        owner.Links.RemoveAll(l => l.Through == source);
        owner.Slots.Remove(source.Slot);
        source.Obj.Caps.Remove(source);
        source.Parent?.Children.Remove(source);
        return moved; // the caller installs it where the kernel put it (the lowest slot free now)
    }
}
