namespace L4Rt.Contracts;

/// <summary>
/// A state of a channel contract (Singularity style): declared on the contract interface, one of them
/// <see cref="Initial"/>. Operations say in which states they are allowed (<see cref="L4RtOperationAttribute.AllowedIn"/>)
/// and what follows them (<see cref="L4RtOperationAttribute.Next"/>). The generated server keeps each client's state
/// and refuses an operation its state does not allow with <see cref="L4Status.OutOfState"/>; the generated client has a
/// wrapper per state that offers only that state's operations.
/// </summary>
[AttributeUsage(AttributeTargets.Interface, AllowMultiple = true, Inherited = false)]
public sealed class L4RtStateAttribute : Attribute
{
    /// <summary>A state called <paramref name="name"/> (a C# identifier).</summary>
    public L4RtStateAttribute(string name) => Name = name;

    /// <summary>The state's name.</summary>
    public string Name { get; }

    /// <summary>Whether a new client starts in this state (exactly one state is initial).</summary>
    public bool Initial { get; set; }
}
