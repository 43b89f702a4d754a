namespace L4Rt.Objects;

/// <summary>A factory's quota and what is charged against it.</summary>
/// <param name="QuotaBytes">Bytes of shared regions the factory may cause.</param>
/// <param name="UsedBytes">Bytes charged now.</param>
/// <param name="QuotaObjects">Objects the factory may create.</param>
/// <param name="UsedObjects">Objects charged now (a child factory counts its whole sub-quota plus one).</param>
public sealed record FactoryUsage(long QuotaBytes, long UsedBytes, int QuotaObjects, int UsedObjects);
