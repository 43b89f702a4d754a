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
        await Owner.RequestAsync(new NameRegister.Request(Slot, capability.Slot, rights, name), $"register '{name}'", cancellationToken).ConfigureAwait(false);
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
        NameQuery.Reply found = await Owner.RequestAsync(new NameQuery.Request(Slot, timeoutMs, name), $"query '{name}'", cancellationToken).ConfigureAwait(false);
        return Create(Owner, found.Slot, found.Kind, found.Rights);
    }

    /// <summary>As <see cref="QueryAsync(string, TimeSpan, CancellationToken)"/>, expecting a capability of type <typeparamref name="T"/>.</summary>
    public async Task<T> QueryAsync<T>(string name, TimeSpan timeout, CancellationToken cancellationToken = default)
        where T : Capability
    {
        Capability cap = await QueryAsync(name, timeout, cancellationToken).ConfigureAwait(false);
        return cap.As<T>($"'{name}'");
    }

    /// <summary>Removes a name this task registered. Capabilities already handed out stay valid.</summary>
    public async Task UnregisterAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        await Owner.RequestAsync(new NameUnregister.Request(Slot, name), $"unregister '{name}'", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every registered name, in ordinal order (fetched page by page; any number of names fits).</summary>
    public async Task<IReadOnlyList<NameInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        List<NameInfo> names = [];
        bool more = true;
        while (more)
        {
            NameList.Reply page = await Owner.RequestAsync(new NameList.Request(Slot, names.Count == 0 ? "" : names[^1].Name), "list names", cancellationToken).ConfigureAwait(false);
            if (page.More && page.Entries.Count == 0)
            {
                throw new L4RtException(L4Status.ProtocolViolation, "the broker sent an empty name-list page with more to follow");
            }

            foreach (NameList.Entry e in page.Entries)
            {
                names.Add(new NameInfo(e.Name, e.Kind, e.Rights, e.Registrant));
            }

            more = page.More;
        }

        return names;
    }

    /// <summary>True when <paramref name="name"/> is a valid name: 1–128 of <c>A–Z a–z 0–9 . _ - / :</c>, not starting with <c>/</c> or <c>.</c>.</summary>
    public static bool IsValidName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ProtocolLimits.IsValidName(name);
    }

    private static void ValidateName(string name)
    {
        if (!ProtocolLimits.IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid name: 1–{ProtocolLimits.MaxNameLength} of A–Z a–z 0–9 . _ - / :, not starting with / or .", nameof(name));
        }
    }
}
