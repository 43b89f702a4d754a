namespace L4Rt.Objects;

/// <summary>A factory's quota and what is charged against it.</summary>
/// <param name="QuotaBytes">Bytes of shared regions the factory may cause.</param>
/// <param name="UsedBytes">Bytes charged now.</param>
/// <param name="QuotaObjects">Objects the factory may create.</param>
/// <param name="UsedObjects">Objects charged now (a child factory counts its whole sub-quota plus one).</param>
/// <param name="QuotaDescriptors">Descriptors the broker may hold for the task's objects (threads, links, IRQs, channels, dataspaces): one budget per task, shared by all its factories.</param>
/// <param name="UsedDescriptors">Descriptors charged to the task now.</param>
public sealed record FactoryUsage(long QuotaBytes, long UsedBytes, int QuotaObjects, int UsedObjects, int QuotaDescriptors, int UsedDescriptors);
