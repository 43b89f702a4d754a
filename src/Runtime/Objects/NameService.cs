using L4Rt.Protocol;
using L4Rt.Protocol.Messages;

namespace L4Rt.Objects;

/// <summary>
/// The name service: translates names into capabilities. An entry dies with the task that registered it.
/// Names are 1–128 characters of ASCII letters, digits and <c>. _ - / :</c>.
/// </summary>
public sealed class NameService : Capability
{
    internal NameService(L4Task task, int slot, CapRights rights)
        : base(task, slot, CapKind.Namespace, rights)
    {
    }

    /// <summary>Registers <paramref name="capability"/> (which needs the map right) under <paramref name="name"/>; queriers receive <paramref name="rights"/>.</summary>
    public async Task RegisterAsync(string name, Capability capability, CapRights rights = CapRights.Send | CapRights.Map, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(capability);
        ValidateName(name);
        using ControlResponse response = await Task.CallAsync(Opcode.NameRegister, new Payload().Int32(Slot).Int32(capability.Slot).UInt32((uint)rights).String(name), cancellationToken).ConfigureAwait(false);
        response.ThrowIfError($"register '{name}'");
    }

    /// <summary>
    /// Looks <paramref name="name"/> up, waiting up to <paramref name="timeout"/> for it to appear
    /// (<see cref="TimeSpan.Zero"/>: do not wait; <see cref="Timeout.InfiniteTimeSpan"/>: wait as long as it takes).
    /// The capability is mapped into this task. Throws <see cref="L4RtException"/> with <see cref="L4Status.NameNotFound"/>.
    /// </summary>
    public async Task<Capability> QueryAsync(string name, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        int timeoutMs = timeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
        using ControlResponse response = await Task.CallAsync(Opcode.NameQuery, new Payload().Int32(Slot).Int32(timeoutMs).String(name), cancellationToken).ConfigureAwait(false);
        response.ThrowIfError($"query '{name}'");
        FrameReader reader = new(response.Payload);
        return Create(Task, reader.ReadInt32(), (CapKind)reader.ReadByte(), (CapRights)reader.ReadUInt32());
    }

    /// <summary>As <see cref="QueryAsync(string, TimeSpan, CancellationToken)"/>, expecting a capability of type <typeparamref name="T"/>.</summary>
    public async Task<T> QueryAsync<T>(string name, TimeSpan timeout, CancellationToken cancellationToken = default)
        where T : Capability
    {
        Capability cap = await QueryAsync(name, timeout, cancellationToken).ConfigureAwait(false);
        return cap as T ?? throw new L4RtException(L4Status.InvalidCapability, $"'{name}' names a {cap.Kind}, not a {typeof(T).Name}");
    }

    /// <summary>Removes a name this task registered. Capabilities already handed out stay valid.</summary>
    public async Task UnregisterAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        using ControlResponse response = await Task.CallAsync(Opcode.NameUnregister, new Payload().Int32(Slot).String(name), cancellationToken).ConfigureAwait(false);
        response.ThrowIfError($"unregister '{name}'");
    }

    /// <summary>Every registered name, in ordinal order (fetched page by page; any number of names fits).</summary>
    public async Task<IReadOnlyList<NameInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        List<(string Name, CapKind Kind, CapRights Rights, int Registrant)> entries = [];
        bool more = true;
        while (more)
        {
            string after = entries.Count == 0 ? "" : entries[^1].Name;
            using ControlResponse response = await Task.CallAsync(Opcode.NameList, NameListPage.Request(Slot, after), cancellationToken).ConfigureAwait(false);
            response.ThrowIfError("list names");
            FrameReader reader = new(response.Payload);
            int before = entries.Count;
            more = NameListPage.ReadReply(ref reader, entries, out _);
            if (more && entries.Count == before)
            {
                throw new L4RtException(L4Status.ProtocolViolation, "the broker sent an empty name-list page with more to follow");
            }
        }

        return entries.ConvertAll(e => new NameInfo(e.Name, e.Kind, e.Rights, e.Registrant));
    }

    private static void ValidateName(string name)
    {
        if (!ProtocolLimits.IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid name: 1–{ProtocolLimits.MaxNameLength} of A–Z a–z 0–9 . _ - / :, not starting with / or .", nameof(name));
        }
    }
}
