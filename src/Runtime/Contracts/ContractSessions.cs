using System.Runtime.CompilerServices;
using L4Rt.Ipc;

namespace L4Rt.Contracts;

/// <summary>
/// The state of each client of a channel contract, kept by the generated server: per link the request came through
/// (<see cref="L4Thread.LastSource"/>: through a gate each client thread has its own), else per label. A client starts
/// in the initial state; an entry goes with its link. Used by the serving thread only.
/// </summary>
public sealed class ContractSessions
{
    private readonly ConditionalWeakTable<ReceiveLink, StrongBox<int>> _byLink = [];
    private readonly Dictionary<ulong, int> _byLabel = [];

    /// <summary>Sessions that start in state <paramref name="initial"/> (the generated code's number for the initial state).</summary>
    public ContractSessions(int initial) => Initial = initial;

    /// <summary>The state a new client starts in.</summary>
    public int Initial { get; }

    /// <summary>The state of the client whose request <paramref name="thread"/> received last (<paramref name="request"/>).</summary>
    public int StateOf(L4Thread thread, in IpcResult request)
    {
        ArgumentNullException.ThrowIfNull(thread);
        if (thread.LastSource is { } link)
        {
            return _byLink.TryGetValue(link, out StrongBox<int>? box) ? box.Value : Initial;
        }

        return _byLabel.TryGetValue(request.Label, out int state) ? state : Initial;
    }

    /// <summary>Moves that client to <paramref name="state"/>.</summary>
    public void Move(L4Thread thread, in IpcResult request, int state)
    {
        ArgumentNullException.ThrowIfNull(thread);
        if (thread.LastSource is { } link)
        {
            if (_byLink.TryGetValue(link, out StrongBox<int>? box))
            {
                box.Value = state;
            }
            else
            {
                _byLink.Add(link, new StrongBox<int>(state));
            }

            return;
        }

        _byLabel[request.Label] = state;
    }
}
