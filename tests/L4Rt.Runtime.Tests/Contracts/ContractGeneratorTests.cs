using System.Collections.Immutable;
using L4Rt.Contracts.Generator;
using L4Rt.Hosting;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace L4Rt.Tests.Contracts;

/// <summary>The contract generator run on source text (CSharpGeneratorDriver): what it reports for bad contracts, and that what it generates compiles.</summary>
public class ContractGeneratorTests
{
    private static readonly Lazy<MetadataReference[]> s_references = new(() =>
    {
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        string[] ours = [typeof(L4Task).Assembly.Location, typeof(IL4RtHandler).Assembly.Location];
        return [.. platform.Concat(ours).DistinctBy(Path.GetFileName).Select(p => MetadataReference.CreateFromFile(p))];
    });

    private const string Usings = """
        using System;
        using System.Runtime.InteropServices;
        using L4Rt.Contracts;
        using L4Rt.Objects;
        namespace Probe;

        """;

    [Fact]
    public void GoodContract_GeneratesClientDispatcherHandlerAndRegistration_CompilingWithoutWarnings()
    {
        (ImmutableArray<Diagnostic> generator, Compilation output) = Run(Usings + """
            public struct Pair { public int A; public long B; }

            [L4RtContract(Id = 9, Version = 3)]
            [L4RtState("Idle", Initial = true)]
            [L4RtState("Busy")]
            public interface IThing
            {
                int Plain(int a, Pair p, bool flag);
                [L4RtOperation(7, AllowedIn = "Idle", Next = "Busy")] string Start(string? name, ReadOnlySpan<byte> data, Gate gate);
                [L4RtOperation(8, AllowedIn = "Busy", Next = "Idle")] void Stop();
                [L4RtOneWay] void Poke(ulong value);
                ReadOnlySpan<byte> Blob();
                Guid Id(DateTime at, TimeSpan span, decimal amount, char c, float f);
                [L4RtOperation(20)] long Lend(Flexpage pages, Gate also, int n);
            }
            """);

        Assert.Empty(generator);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        foreach (string type in new[] { "Probe.ThingClient", "Probe.ThingDispatcher", "Probe.ThingHandler`1", "Probe.ThingServiceCollectionExtensions", "Probe.ThingClient+IdleState", "Probe.ThingClient+BusyState" })
        {
            Assert.NotNull(output.GetTypeByMetadataName(type));
        }

        INamedTypeSymbol client = output.GetTypeByMetadataName("Probe.ThingClient")!;
        Assert.Equal((9 << 16) | (3 << 8) | 1, client.GetMembers("ProtocolPlain").OfType<IFieldSymbol>().Single().ConstantValue); // by order
        Assert.Equal((9 << 16) | (3 << 8) | 7, client.GetMembers("ProtocolStart").OfType<IFieldSymbol>().Single().ConstantValue);
        Assert.Equal((9 << 16) | (3 << 8) | 4, client.GetMembers("ProtocolPoke").OfType<IFieldSymbol>().Single().ConstantValue);
        Assert.NotEmpty(client.GetMembers("PlainAsync"));
        Assert.Empty(client.GetMembers("PokeAsync")); // one way: a send, no async call
        Assert.Empty(client.GetMembers("StartAsync")); // a capability travels through the broker: synchronous only
        INamedTypeSymbol idle = output.GetTypeByMetadataName("Probe.ThingClient+IdleState")!;
        Assert.Empty(idle.GetMembers("Stop"));
        Assert.Equal("BusyState", ((IMethodSymbol)idle.GetMembers("Start").Single()).ReturnType.Name);
    }

    [Fact]
    public void WithoutHosting_NoHandlerIsGenerated_TheRestCompiles()
    {
        (ImmutableArray<Diagnostic> generator, Compilation output) = Run(Usings + "[L4RtContract(Id = 1)] internal interface IMini { void Ping(); }", hosting: false);
        Assert.Empty(generator);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.NotNull(output.GetTypeByMetadataName("Probe.MiniClient"));
        Assert.Null(output.GetTypeByMetadataName("Probe.MiniHandler`1"));
    }

    [Theory]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { void M(object o); }", "L4RT001", "Parameter 'o' of operation 'M' has type 'object', which cannot be marshalled")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { unsafe void M(int* p); }", "L4RT001", "Parameter 'p' of operation 'M'")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { void M(int[] a); }", "L4RT001", "type 'int[]'")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { void M(ReadOnlySpan<int> a); }", "L4RT001", "ReadOnlySpan<int>")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { object M(); }", "L4RT002", "Operation 'M' returns 'object'")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { Gate? M(); }", "L4RT002", "a capability type (not nullable: the reply always carries it)")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { System.Threading.Tasks.Task<int> M(); }", "L4RT002", "returns")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { Flexpage M(int a); [L4RtOneWay] void N(); System.Threading.Tasks.Task<Gate> O(); }", "L4RT002", "Operation 'O' returns")]
    [InlineData("public struct Big { public Guid A, B, C, D; public long E, F, G, H, I, J, K, L, M, N, O, P, Q, R, S, T, U, V, W, X, Y, Z, AA, AB, AC, AD, AE, AF, AG, AH, AI, AJ, AK, AL, AM, AN, AO, AP, AQ, AR, AS, AT, AU, AV, AW, AX, AY, AZ, BA, BB, BC, BD, BE, BF, BG, BH; }\n[L4RtContract(Id = 1)] public interface IBad { void M(Big b); }", "L4RT003", "The request of operation 'M' needs 64 message registers")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { void M(Gate a, Gate b, Gate c, Gate d, Gate e, Gate f, Gate g, Gate h, Gate i, Gate j, Gate k, Gate l, Gate m, Gate n, Gate o, Gate p, Gate q, Gate r, Gate s, Gate t, Gate u, Gate v, Gate w, Gate x, Gate y, Gate z, Gate aa, Gate ab, Gate ac, Gate ad, Gate ae, Gate af); }", "L4RT003", "needs 64 message registers")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { [L4RtOperation(2)] void A(); [L4RtOperation(2)] void B(); }", "L4RT004", "Operations 'A' and 'B' of contract 'IBad' both have opcode 2")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { void A(); [L4RtOperation(1)] void B(); }", "L4RT004", "both have opcode 1")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { [L4RtOperation(256)] void A(); }", "L4RT005", "Operation 'A' has opcode 256; opcodes are 1..255")]
    [InlineData("[L4RtContract(Id = 0)] public interface IBad { void A(); }", "L4RT006", "Contract 'IBad' has id 0 and version 0")]
    [InlineData("[L4RtContract(Id = 1, Version = 300)] public interface IBad { void A(); }", "L4RT006", "versions 0..255")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { void A(ref int x); }", "L4RT007", "Parameter 'x' of operation 'A' is passed by reference")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { void A(out int x); }", "L4RT007", "passed by reference")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { int P { get; } }", "L4RT008", "Member 'P' of contract 'IBad' cannot be an operation")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { void G<T>(); }", "L4RT008", "Member 'G'")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { [L4RtOneWay] int A(); }", "L4RT009", "One-way operation 'A' returns 'int'")]
    [InlineData("[L4RtContract(Id = 1)] [L4RtState(\"S\", Initial = true)] public interface IBad { [L4RtOperation(1, AllowedIn = \"T\")] void A(); }", "L4RT010", "Operation 'A' names state 'T', which contract 'IBad' does not declare")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad { [L4RtOperation(1, Next = \"Open\")] void A(); }", "L4RT010", "names state 'Open'")]
    [InlineData("[L4RtContract(Id = 1)] [L4RtState(\"S\")] [L4RtState(\"T\")] public interface IBad { void A(); }", "L4RT011", "Contract 'IBad' declares states but 0 of them are initial")]
    [InlineData("[L4RtContract(Id = 1)] [L4RtState(\"S\", Initial = true)] [L4RtState(\"T\", Initial = true)] public interface IBad { void A(); }", "L4RT011", "2 of them are initial")]
    [InlineData("public class Outer { [L4RtContract(Id = 1)] public interface IBad { void A(); } }", "L4RT012", "Contract 'IBad' is generic or nested")]
    [InlineData("[L4RtContract(Id = 1)] public interface IBad<T> { void A(); }", "L4RT012", "is generic or nested")]
    [InlineData("[L4RtContract(Id = 1)] [L4RtState(\"S\", Initial = true)] [L4RtState(\"S\")] public interface IBad { void A(); }", "L4RT013", "declares state 'S' more than once")]
    [InlineData("[L4RtContract(Id = 1)] [L4RtState(\"not valid\", Initial = true)] public interface IBad { void A(); }", "L4RT013", "not a C# identifier")]
    public void BadContract_IsReported_WithItsIdAndAClearMessage_AndNothingIsGenerated(string contract, string id, string message)
    {
        (ImmutableArray<Diagnostic> generator, Compilation output) = Run(Usings + contract);

        Diagnostic d = Assert.Single(generator);
        Assert.Equal(id, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Contains(message, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.NotEqual(Location.None, d.Location); // points at the contract, the member or the parameter
        Assert.Null(output.GetTypeByMetadataName("Probe.BadClient"));
    }

    [Fact]
    public void Incremental_AnUnrelatedEdit_LeavesTheGeneratedSourceCached()
    {
        CSharpParseOptions parse = new(LanguageVersion.Latest);
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Probe",
            [CSharpSyntaxTree.ParseText(Usings + "[L4RtContract(Id = 1)] public interface IMini { int Ping(int x); }", parse)],
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new ContractGenerator().AsSourceGenerator()],
            parseOptions: parse,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGenerators(compilation);
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Other; public class Unrelated { }", parse)));

        GeneratorRunResult run = Assert.Single(driver.GetRunResult().Results);
        Assert.Single(run.GeneratedSources);
        IncrementalStepRunReason[] reasons = [.. run.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason)];
        Assert.NotEmpty(reasons);
        Assert.All(reasons, r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void Diagnostics_AreDocumented_InDocsContracts()
    {
        string docs = File.ReadAllText(Path.Combine(Docs.ReadmeSnippetTests.RepoRoot, "docs", "contracts.md"));
        foreach (DiagnosticDescriptor d in typeof(ContractDiagnostics).GetFields().Select(f => (DiagnosticDescriptor)f.GetValue(null)!))
        {
            Assert.Contains($"| {d.Id} |", docs, StringComparison.Ordinal);
        }
    }

    private static (ImmutableArray<Diagnostic> Generator, Compilation Output) Run(string source, bool hosting = true)
    {
        CSharpParseOptions parse = new(LanguageVersion.Latest);
        MetadataReference[] references = hosting
            ? s_references.Value
            : [.. s_references.Value.Where(r => !Path.GetFileName(r.Display ?? "").StartsWith("L4Rt.Runtime.Hosting", StringComparison.Ordinal))];
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Probe",
            [CSharpSyntaxTree.ParseText(source, parse)],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error && d.Id != "CS0246")); // the probe itself is valid C#
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new ContractGenerator().AsSourceGenerator()], parseOptions: parse);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return (diagnostics, output);
    }
}
