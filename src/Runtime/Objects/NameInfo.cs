using L4Rt.Protocol;

namespace L4Rt.Objects;

/// <summary>One name-service entry as listed.</summary>
/// <param name="Name">The name.</param>
/// <param name="Kind">The kind of object it names.</param>
/// <param name="Rights">The rights a querier receives.</param>
/// <param name="RegistrantTaskId">The id of the task that registered it (the entry dies with that task).</param>
public sealed record NameInfo(string Name, CapKind Kind, CapRights Rights, int RegistrantTaskId);
