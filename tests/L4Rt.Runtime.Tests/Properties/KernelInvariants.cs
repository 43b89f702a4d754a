using L4Rt.Broker.Kernel;
using L4Rt.Memory;
using L4Rt.Protocol;

namespace L4Rt.Tests.Properties;

/// <summary>
/// What must hold of the kernel's own bookkeeping between any two requests, whatever came before, read from its
/// objects alone (no model): the derivation tree is a forest whose every path starts at a capability in a task's
/// slot, rights never grow along a path, every list that names a capability names a live one, and each factory's
/// use is the sum of what is charged to it now.
/// </summary>
internal static class KernelInvariants
{
    internal static void Check(TaskObject[] tasks, NameEntry[] names)
    {
        HashSet<Capability> live = [];
        foreach (TaskObject task in tasks)
        {
            Holds(!task.Destroyed, $"task {task.Id} is destroyed but still listed");
            foreach (Capability cap in task.Space.All)
            {
                Holds(cap.Owner == task && task.Space.Get(cap.Slot) == cap, $"task {task.Id} slot {cap.Slot}: the capability says it sits elsewhere");
                live.Add(cap);
            }

            live.UnionWith(task.Mappings.Values);
        }

        foreach (NameEntry entry in names)
        {
            Holds(entry.Held.Entry == entry && entry.Held.Owner is null, $"name '{entry.Name}': its capability is not the entry's");
            Holds(Array.IndexOf(tasks, entry.Registrant) >= 0, $"name '{entry.Name}' outlived its registrant, task {entry.Registrant.Id}");
            live.Add(entry.Held);
        }

        foreach (Capability cap in live)
        {
            Holds(!cap.Object.Destroyed, $"{Where(cap)} names {cap.Object.Kind} {cap.Object.Id}, which is destroyed");
            Holds(cap.Object.Caps.Contains(cap), $"{Where(cap)} is missing from its object's list of capabilities");
            foreach (Capability child in cap.Children)
            {
                Holds(child.Parent == cap && live.Contains(child), $"{Where(cap)} lists a child ({Where(child)}) that is gone or derives from another");
            }

            foreach (Capability other in cap.Object.Caps)
            {
                Holds(live.Contains(other), $"{cap.Object.Kind} {cap.Object.Id} lists a capability ({Where(other)}) that is gone");
            }

            Capability node = cap;
            for (int depth = 0; node.Parent is { } parent; depth++)
            {
                Holds(depth < live.Count, $"{Where(cap)}: its derivation path is a cycle");
                Holds(live.Contains(parent), $"{Where(node)} derives from a capability that is gone");
                Holds(parent.Children.Contains(node), $"{Where(node)} is missing from its parent's ({Where(parent)}) children");
                Holds(parent.Object == node.Object, $"{Where(node)} names another object than its parent ({Where(parent)})");
                Holds((node.Rights & ~parent.Rights) == 0, $"{Where(node)} has {node.Rights}, more than its parent's {parent.Rights}");
                node = parent;
            }

            Holds(node.Owner is not null, $"{Where(cap)}: its derivation path starts at {Where(node)}, no task's capability");
        }

        List<FactoryObject> factories = [.. tasks.Select(t => t.RootFactory), .. tasks.SelectMany(t => t.Created.OfType<FactoryObject>())];
        List<LinkObject> links = [.. tasks.SelectMany(t => t.SendLinks)];
        foreach (FactoryObject factory in factories)
        {
            Quota(factory, factories, names, links);
        }
    }

    /// <summary>A factory's use is never negative nor over its quota, and is exactly what is charged to it now.</summary>
    private static void Quota(FactoryObject factory, List<FactoryObject> factories, NameEntry[] names, List<LinkObject> links)
    {
        string what = $"factory {factory.Id}";
        Holds(factory.UsedBytes >= 0 && factory.UsedObjects >= 0 && factory.UsedFds >= 0, $"{what}: negative use ({factory.UsedBytes} bytes, {factory.UsedObjects} objects, {factory.UsedFds} fds)");
        Holds(factory.UsedBytes <= factory.QuotaBytes && factory.UsedObjects <= factory.QuotaObjects, $"{what}: over quota ({factory.UsedBytes}/{factory.QuotaBytes} bytes, {factory.UsedObjects}/{factory.QuotaObjects} objects)");
        long bytes = links.Count(l => l.ChargedTo == factory) * (long)LinkLayout.RegionSize;
        int objects = names.Count(e => e.ChargedTo == factory);
        foreach (KernelObject obj in factory.Objects)
        {
            Holds(!obj.Destroyed && obj.Factory == factory, $"{what} counts {obj.Kind} {obj.Id}, which is destroyed or charged elsewhere");
            bytes += obj.ChargedBytes;
            objects += obj.ChargedObjects;
        }

        Holds(factory.UsedBytes == bytes && factory.UsedObjects == objects, $"{what}: uses {factory.UsedBytes} bytes and {factory.UsedObjects} objects, its live objects, names and links sum to {bytes} and {objects}");
        if (factory.Root == factory)
        {
            int fds = links.Count(l => l.ChargedTo == factory) + factories.Where(f => f.Root == factory).SelectMany(f => f.Objects).Sum(o => o.ChargedFds);
            Holds(factory.UsedFds == fds, $"{what}: uses {factory.UsedFds} descriptors, what is charged to it sums to {fds}");
        }
    }

    internal static string Where(Capability cap) => cap.Owner is { } owner
        ? (owner.Space.Get(cap.Slot) == cap ? $"task {owner.Id} slot {cap.Slot}" : $"a flexpage mapping of task {owner.Id}")
        : $"the name service's capability for '{cap.Entry?.Name}'";

    internal static void Holds(bool condition, string violation)
    {
        if (!condition)
        {
            throw new Xunit.Sdk.XunitException(violation);
        }
    }
}
