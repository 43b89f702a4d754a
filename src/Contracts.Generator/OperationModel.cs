using System.Collections.Generic;

namespace L4Rt.Contracts.Generator;

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

    public int Capabilities => Count(ValueKind.Capability);

    public int Flexpages => Count(ValueKind.Flexpage);

    /// <summary>Typed items of a request: capabilities and flexpages, in parameter order.</summary>
    public int Items => Capabilities + Flexpages;

    private int Count(ValueKind kind)
    {
        int n = 0;
        foreach (ParameterModel p in Parameters)
        {
            n += p.Kind == kind ? 1 : 0;
        }

        return n;
    }
}
