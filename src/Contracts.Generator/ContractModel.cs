using System.Collections.Generic;

namespace L4Rt.Contracts.Generator;

/// <summary>A contract interface as the emitter needs it.</summary>
internal sealed class ContractModel
{
    public ContractModel(string? ns, string interfaceName, string baseName, string accessibility, int id, int version)
    {
        Namespace = ns;
        InterfaceName = interfaceName;
        BaseName = baseName;
        Accessibility = accessibility;
        Id = id;
        Version = version;
    }

    public string? Namespace { get; }

    public string InterfaceName { get; }

    /// <summary>The interface's name without its leading I: the stem of the generated types' names.</summary>
    public string BaseName { get; }

    public string Accessibility { get; }

    public int Id { get; }

    public int Version { get; }

    public List<OperationModel> Operations { get; } = [];

    public List<string> States { get; } = [];

    public int Initial { get; set; } = -1;

    /// <summary>Whether the compilation references the hosting integration (then the handler and its registration are generated).</summary>
    public bool Hosting { get; set; }

    public bool IsChannel => States.Count > 0;

    /// <summary>The receive window the hosting handler creates for flexpage arguments.</summary>
    public long ReceiveWindowBytes { get; set; } = 16 << 20;
}
