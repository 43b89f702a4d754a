using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>A connected process: its capability space, its root factory and the port to its connection.</summary>
internal sealed class TaskObject(long id, ITaskPort port, int pid, uint uid, string name) : KernelObject(id, null)
{
    internal override CapKind Kind => CapKind.Task;

    /// <summary>Where its responses and notifications go.</summary>
    internal ITaskPort Port { get; } = port;

    internal int Pid { get; } = pid;

    internal uint Uid { get; } = uid;

    internal string Name { get; } = name;

    internal CapSpace Space { get; } = new();

    internal FactoryObject RootFactory { get; set; } = null!;

    /// <summary>Links this task opened as a sender.</summary>
    internal List<LinkObject> SendLinks { get; } = [];

    internal long ControlCalls { get; set; }

    /// <summary>The status snapshot this task is reading page by page (<see cref="Opcode.Status"/>), and its id.</summary>
    internal byte[]? StatusSnapshot { get; set; }

    internal uint StatusSnapshotId { get; set; }

    /// <summary>Channels this task holds an end of.</summary>
    internal List<ChannelObject> ChannelEnds { get; } = [];

    /// <summary>Flexpages this task received (memory items), by the token its runtime knows each mapping by.</summary>
    internal Dictionary<long, Capability> Mappings { get; } = [];

    /// <summary>Objects this task created (through any factory); they die with it.</summary>
    internal List<KernelObject> Created { get; } = [];
}
