using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// An object the broker owns. It was created by <see cref="Creator"/> through <see cref="Factory"/>, which
/// was charged <see cref="ChargedBytes"/> and one object; destroying it refunds both.
/// </summary>
internal abstract class KernelObject(long id, TaskObject? creator)
{
    internal long Id { get; } = id;

    internal abstract CapKind Kind { get; }

    internal TaskObject? Creator { get; } = creator;

    internal FactoryObject? Factory { get; set; }

    internal long ChargedBytes { get; set; }

    internal int ChargedObjects { get; set; } = 1;

    /// <summary>Descriptors the broker holds for this object, charged to <see cref="Factory"/>'s root.</summary>
    internal int ChargedFds { get; set; }

    internal bool Destroyed { get; set; }

    /// <summary>Every capability naming this object, in any task (or held by the name service).</summary>
    internal List<Capability> Caps { get; } = [];
}
