using Xunit.Abstractions;

namespace L4Rt.Tests.Layers;

/// <summary>
/// The SDK's layers, lowest first: Core (status and exception types) → Interop → Memory → Ipc → Channels →
/// Protocol → Objects → Contracts (typed RPC support for generated code) → Task (L4Task and its options) → Hosting. A type may use its own layer and the layers below;
/// a use of a higher layer is a back edge and fails the build's tests.
/// </summary>
public class LayeringTests(ITestOutputHelper output)
{
    private readonly ITestOutputHelper _output = output;

    private static readonly string[] s_layers = ["Core", "Interop", "Memory", "Ipc", "Channels", "Protocol", "Objects", "Contracts", "Task", "Hosting"];

    /// <summary>
    /// Back edges that exist today for reasons outside the SDK's own layering work, each with what removes it.
    /// An entry that no longer matches any edge fails the test, so the list only shrinks.
    /// </summary>
    private static readonly (string FromPrefix, string To, string Why)[] s_known =
    [
        ("L4Rt.Objects.", "L4Rt.L4Task",
            "Capability.Owner and the typed control calls (L4Task.RequestAsync) of every object: objects need a control-plane port below L4Task to lose this edge"),
    ];

    private static string RuntimeAssembly => typeof(L4Task).Assembly.Location;

    /// <summary>The layer of an L4Rt type (by namespace; root-namespace types by name), or null for compiler-made types.</summary>
    internal static string? LayerOf(string type)
    {
        if (!type.StartsWith("L4Rt.", StringComparison.Ordinal))
        {
            return null; // <Module>, <PrivateImplementationDetails>, embedded attributes
        }

        string rest = type["L4Rt.".Length..];
        int dot = rest.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            return rest[..dot];
        }

        return rest switch
        {
            "L4Status" or "L4RtException" or "ThrowHelper" => "Core",
            "L4Task" or "L4TaskOptions" or "ProcessLifetime" => "Task",
            _ => "unassigned",
        };
    }

    /// <summary>The edges that go from a lower layer to a higher one and are not in <paramref name="known"/>.</summary>
    internal static List<string> BackEdges(IEnumerable<(string From, string To)> edges, Func<string, string?> layerOf, IReadOnlyList<(string FromPrefix, string To, string Why)> known)
    {
        List<string> back = [];
        foreach ((string from, string to) in edges)
        {
            string? a = layerOf(from), b = layerOf(to);
            if (a is null || b is null)
            {
                continue;
            }

            if (Array.IndexOf(s_layers, a) < Array.IndexOf(s_layers, b)
                && !known.Any(k => from.StartsWith(k.FromPrefix, StringComparison.Ordinal) && to == k.To))
            {
                back.Add($"{from} ({a}) uses {to} ({b})");
            }
        }

        back.Sort(StringComparer.Ordinal);
        return back;
    }

    [Fact]
    public void BackEdges_SyntheticGraph_FlagsExactlyTheEdgeThatGoesUp()
    {
        (string, string)[] edges =
        [
            ("L4Rt.Ipc.Sender", "L4Rt.Memory.Region"),   // down: fine
            ("L4Rt.Ipc.Sender", "L4Rt.Ipc.Helper"),      // same layer: fine
            ("L4Rt.Objects.Door", "L4Rt.L4Status"),      // down to Core: fine
            ("L4Rt.Memory.Region", "L4Rt.Objects.Door"), // up: the back edge
            ("System.Foo", "L4Rt.Objects.Door"),         // not ours: ignored
        ];

        Assert.Equal(["L4Rt.Memory.Region (Memory) uses L4Rt.Objects.Door (Objects)"], BackEdges(edges, LayerOf, []));
        Assert.Empty(BackEdges(edges, LayerOf, [("L4Rt.Memory.", "L4Rt.Objects.Door", "allowed for the test")]));
    }

    [Fact]
    public void TypeGraph_RuntimeAssembly_SeesSignatureAndMethodBodyUses()
    {
        HashSet<(string From, string To)> edges = TypeGraph.Edges(RuntimeAssembly);
        Assert.Contains(("L4Rt.Ipc.L4Thread", "L4Rt.Memory.DoorbellRegion"), edges);  // a field
        Assert.Contains(("L4Rt.ProcessLifetime", "L4Rt.Ipc.PeerWatch"), edges);       // only inside a method body
        Assert.Contains(("L4Rt.Ipc.DirectLink", "L4Rt.Interop.SafeFdHandle"), edges); // a local List<SafeFdHandle>: a generic instantiation

        // The checker finds the real back edges when nothing is excused: the graph is not silently empty.
        List<string> unexcused = BackEdges(edges, LayerOf, []);
        Assert.Contains("L4Rt.Objects.Capability (Objects) uses L4Rt.L4Task (Task)", unexcused);
    }

    [Fact]
    public void LayerMatrix_RuntimeAssembly_PrintsWhoUsesWhom()
    {
        // Not an assertion: the layer-to-layer uses, in the test output, for whoever moves a type.
        foreach (IGrouping<string, string> row in TypeGraph.Edges(RuntimeAssembly)
            .Select(e => (From: LayerOf(e.From), To: LayerOf(e.To)))
            .Where(e => e.From is not null && e.To is not null && e.From != e.To)
            .Select(e => $"{e.From} -> {e.To}").Distinct().Order(StringComparer.Ordinal).GroupBy(s => s.Split(' ')[0]))
        {
            _output.WriteLine(string.Join(", ", row));
        }
    }

    [Fact]
    public void Runtime_EveryTypeHasALayer()
    {
        List<string> unassigned = [.. TypeGraph.Types(RuntimeAssembly).Where(t => LayerOf(t) is { } layer && Array.IndexOf(s_layers, layer) < 0)];
        Assert.True(unassigned.Count == 0, "types outside every layer (put them in a layer's namespace or name them in LayerOf): " + string.Join(", ", unassigned));
    }

    [Fact]
    public void Runtime_NoLayerUsesAHigherOne()
    {
        HashSet<(string From, string To)> edges = TypeGraph.Edges(RuntimeAssembly);
        List<string> back = BackEdges(edges, LayerOf, s_known);
        Assert.True(back.Count == 0, "back edges between layers:\n" + string.Join('\n', back));

        string[] stale = [.. s_known.Where(k => !edges.Any(e => e.From.StartsWith(k.FromPrefix, StringComparison.Ordinal) && e.To == k.To)).Select(k => $"{k.FromPrefix} → {k.To}")];
        Assert.True(stale.Length == 0, "known back edges that are gone (remove them from the list): " + string.Join(", ", stale));
    }
}
