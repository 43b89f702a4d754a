using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// One registration: the capability the name service holds (derived from the registrant's), the rights
/// queriers get, and the factory charged one object for it (the registrant's root), refunded when it goes.
/// </summary>
internal sealed record NameEntry(string Name, Capability Held, CapRights Rights, TaskObject Registrant, FactoryObject ChargedTo);
