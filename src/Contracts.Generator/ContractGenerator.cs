using Microsoft.CodeAnalysis;

namespace L4Rt.Contracts.Generator;

/// <summary>
/// Generates, for each interface marked <c>[L4RtContract]</c>: a client proxy (<c>…Client</c>) that marshals arguments
/// straight into the calling thread's message registers, a server dispatcher (<c>…Dispatcher</c>, a plain function for
/// a hand-written server loop) and, when the hosting integration is referenced, a handler (<c>…Handler&lt;T&gt;</c>) and
/// its registration (<c>Add…Server&lt;T&gt;</c>). Problems are reported as L4RT001…L4RT013.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ContractGenerator : IIncrementalGenerator
{
    internal const string ContractAttribute = "L4Rt.Contracts.L4RtContractAttribute";

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<GeneratedContract> contracts = context.SyntaxProvider.ForAttributeWithMetadataName(
            ContractAttribute,
            static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.InterfaceDeclarationSyntax,
            static (ctx, ct) => ContractReader.Generate(ctx, ct));

        context.RegisterSourceOutput(contracts, static (spc, contract) =>
        {
            foreach (DiagnosticInfo d in contract.Diagnostics)
            {
                spc.ReportDiagnostic(d.ToDiagnostic());
            }

            if (contract.Source is not null)
            {
                spc.AddSource(contract.HintName, contract.Source);
            }
        });
    }
}
