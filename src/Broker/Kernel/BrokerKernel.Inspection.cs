namespace L4Rt.Broker.Kernel;

internal sealed partial class BrokerKernel
{
    /// <summary>
    /// The live tasks, the name entries and how many notifications and name queries are still pending, for tests that
    /// check the kernel's invariants between requests (tests/…/Properties). The objects are the kernel's own, not
    /// copies: read them only while no request runs.
    /// </summary>
    internal (TaskObject[] Tasks, NameEntry[] Names, int Pending) Inspect()
    {
        lock (_lock)
        {
            return ([.. _tasks.Values], [.. _namespace.Entries.Values], _pendingAcks.Count + _pendingQueries.Count);
        }
    }
}
