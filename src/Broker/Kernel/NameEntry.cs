using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>One registration: the capability the name service holds (derived from the registrant's) and the rights queriers get.</summary>
internal sealed record NameEntry(string Name, Capability Held, CapRights Rights, TaskObject Registrant);
