using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// Creates objects within a quota of bytes (shared regions it caused) and of objects. A child factory's quota
/// is carved out of its parent's: creating it charges the parent the whole sub-quota (plus one object).
/// Descriptors the broker holds for objects are one budget per task, kept by the task's root factory and
/// drawn on by every factory under it (<see cref="Root"/>).
/// </summary>
internal sealed class FactoryObject(long id, TaskObject? creator, long quotaBytes, int quotaObjects, FactoryObject? parent = null, int quotaFds = 0) : KernelObject(id, creator)
{
    internal override CapKind Kind => CapKind.Factory;

    /// <summary>The task's root factory, which keeps the descriptor budget.</summary>
    internal FactoryObject Root => parent?.Root ?? this;

    /// <summary>Descriptors objects under this root may make the broker hold (0 for child factories: see <see cref="Root"/>).</summary>
    internal int QuotaFds { get; } = quotaFds;

    internal int UsedFds { get; set; }

    internal long QuotaBytes { get; } = quotaBytes;

    internal int QuotaObjects { get; } = quotaObjects;

    internal long UsedBytes { get; private set; }

    internal int UsedObjects { get; private set; }

    /// <summary>Objects charged to this factory, destroyed with it.</summary>
    internal HashSet<KernelObject> Objects { get; } = [];

    /// <summary>Checks first, then charges: a creation beyond quota fails and changes nothing.</summary>
    internal void Charge(long bytes, int objects)
    {
        // A negative charge would be a refund that skips the checks below: a kernel bug, never a client's request.
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfNegative(objects);
        if (bytes > QuotaBytes - UsedBytes)
        {
            throw new L4RtException(L4Status.QuotaExceeded, $"factory {Id}: {bytes} bytes requested, {QuotaBytes - UsedBytes} of {QuotaBytes} left");
        }

        if (objects > QuotaObjects - UsedObjects)
        {
            throw new L4RtException(L4Status.QuotaExceeded, $"factory {Id}: {objects} objects requested, {QuotaObjects - UsedObjects} of {QuotaObjects} left");
        }

        UsedBytes += bytes;
        UsedObjects += objects;
    }

    internal void Refund(long bytes, int objects)
    {
        UsedBytes -= bytes;
        UsedObjects -= objects;
    }
}
