using System.Collections.Generic;

namespace L4Rt.Contracts.Generator;

/// <summary>How a parameter or result travels.</summary>
internal enum ValueKind
{
    Void,
    Unmanaged,
    Bool,
    String,
    Bytes,
    Capability,
}

/// <summary>One parameter of an operation.</summary>
internal sealed class ParameterModel
{
    public ParameterModel(string name, string type, ValueKind kind)
    {
        Name = name;
        Type = type;
        Kind = kind;
    }

    public string Name { get; }

    public string Type { get; }

    public ValueKind Kind { get; }
}

/// <summary>One operation of a contract.</summary>
internal sealed class OperationModel
{
    public OperationModel(string name, int opcode, bool oneWay, List<ParameterModel> parameters, string returnType, ValueKind returnKind)
    {
        Name = name;
        Opcode = opcode;
        OneWay = oneWay;
        Parameters = parameters;
        ReturnType = returnType;
        ReturnKind = returnKind;
    }

    public string Name { get; }

    public int Opcode { get; }

    public bool OneWay { get; }

    public List<ParameterModel> Parameters { get; }

    public string ReturnType { get; }

    public ValueKind ReturnKind { get; }

    /// <summary>Indexes of the states that allow it (empty: every state).</summary>
    public List<int> AllowedIn { get; } = [];

    /// <summary>The index of the state after it, or -1 to stay.</summary>
    public int Next { get; set; } = -1;

    public int Capabilities
    {
        get
        {
            int n = 0;
            foreach (ParameterModel p in Parameters)
            {
                n += p.Kind == ValueKind.Capability ? 1 : 0;
            }

            return n;
        }
    }
}

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
}
