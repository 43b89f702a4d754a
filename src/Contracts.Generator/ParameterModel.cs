namespace L4Rt.Contracts.Generator;

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
