using L4Rt.Protocol;
using L4Rt.Protocol.Messages;

namespace L4Rt.Objects;

/// <summary>
/// A capability held by this task: a task-local slot naming a broker object, with rights. Typed
/// subclasses (<see cref="Gate"/>, <see cref="Irq"/>, <see cref="Factory"/>, <see cref="NameService"/>, <see cref="Channel"/>, <see cref="Dataspace"/>)
/// add the object's operations.
/// </summary>
public class Capability
{
    internal Capability(L4Task task, int slot, CapKind kind, CapRights rights)
    {
        Owner = task;
        Slot = slot;
        Kind = kind;
        Rights = rights;
    }

    /// <summary>The task whose capability space holds this capability.</summary>
    public L4Task Owner { get; }

    /// <summary>The task-local slot index (meaningless in any other task).</summary>
    public int Slot { get; }

    /// <summary>The kind of object named.</summary>
    public CapKind Kind { get; }

    /// <summary>The rights this capability carries.</summary>
    public CapRights Rights { get; }

    /// <summary>
    /// Deletes this capability and every capability mapped from it. If it is the creator's original
    /// (with the delete right), the object itself is destroyed everywhere and its quota refunded.
    /// </summary>
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        await Owner.RequestAsync(new Delete.Request(Slot), $"delete slot {Slot}", cancellationToken).ConfigureAwait(false);
        OnDeleted();
    }

    /// <summary>After a successful <see cref="DeleteAsync"/>: a typed object lets go of what it mapped.</summary>
    private protected virtual void OnDeleted()
    {
    }

    /// <summary>
    /// Maps this capability into <paramref name="targetTask"/> with <paramref name="rights"/> (only rights this
    /// capability has survive). Returns the slot in the target task's space. Needs the map right.
    /// </summary>
    public async Task<int> MapToAsync(Capability targetTask, CapRights rights, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targetTask);
        SlotReply mapped = await Owner.RequestAsync(new Map.Request(Slot, targetTask.Slot, rights), $"map slot {Slot}", cancellationToken).ConfigureAwait(false);
        return mapped.Slot;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Kind} capability at slot {Slot} ({Rights})";

    /// <summary>This capability as a <typeparamref name="T"/>, or <see cref="L4Status.InvalidCapability"/> saying what <paramref name="what"/> names instead.</summary>
    internal T As<T>(string what)
        where T : Capability =>
        this as T ?? throw new L4RtException(L4Status.InvalidCapability, $"{what} names a {Kind}, not a {typeof(T).Name}");

    internal static Capability Create(L4Task task, int slot, CapKind kind, CapRights rights) => kind switch
    {
        CapKind.Gate => new Gate(task, slot, rights),
        CapKind.Irq => new Irq(task, slot, rights),
        CapKind.Factory => new Factory(task, slot, rights),
        CapKind.Namespace => new NameService(task, slot, rights),
        CapKind.Channel => new Channel(task, slot, rights),
        CapKind.Dataspace => new Dataspace(task, slot, rights),
        _ => new Capability(task, slot, kind, rights),
    };
}
