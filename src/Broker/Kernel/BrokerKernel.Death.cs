using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

internal sealed partial class BrokerKernel
{
    /// <summary>The task's control socket reached EOF: the process is gone (or gave up). Release everything it held.</summary>
    internal void TaskDisconnected(ITaskPort session)
    {
        lock (_lock)
        {
            if (session.Task is { } task)
            {
                DestroyTask(task);
            }
        }
    }

    /// <summary>
    /// Task death: its links are marked dead (partners wake with DestinationDeleted), its objects destroyed,
    /// its capabilities revoked with everything derived from them (including its names), its quota returned.
    /// </summary>
    private void DestroyTask(TaskObject task)
    {
        if (task.Destroyed)
        {
            return;
        }

        foreach (PendingQuery query in _pendingQueries.Where(q => q.Task == task).ToList())
        {
            _pendingQueries.Remove(query);
            query.Timer?.Dispose();
        }

        // Ends of channels it held: the other side drains what was committed, then learns.
        foreach (ChannelObject channel in task.ChannelEnds.ToList())
        {
            if (!channel.Destroyed)
            {
                channel.Region.MarkDead(producer: channel.Producer == task);
            }
        }

        task.ChannelEnds.Clear();
        foreach (LinkObject link in task.SendLinks.ToList())
        {
            DestroyLink(link, notifyReceiver: true);
        }

        foreach (KernelObject obj in task.Created.ToList())
        {
            Destroy(obj);
        }

        Destroy(task.RootFactory);
        foreach (Capability cap in task.Space.All.Concat(task.Mappings.Values).ToList())
        {
            RemoveCapability(cap);
        }

        // Entries die with their registrant. Most went above, with the capability they were derived from; not one whose
        // capability the task granted away after registering it (the entry's now hangs below the receiver's): before
        // this it outlived the task, and no one could unregister it (Properties/KernelRegressionTests keeps the sequence).
        foreach (NameEntry entry in _namespace.Entries.Values.Where(e => e.Registrant == task).ToList())
        {
            RemoveCapability(entry.Held);
        }

        task.Destroyed = true;
        _tasks.Remove(task.Id);

        // Notifications the dead task will never acknowledge.
        foreach ((uint id, PendingAck pending) in _pendingAcks.Where(p => p.Value.To == task).ToList())
        {
            _pendingAcks.Remove(id);
            pending.Timer?.Dispose();
            pending.OnAck(L4Status.DestinationDeleted);
        }

        BrokerLog.TaskLeft(_log, task.Id, task.Pid);
    }
}
