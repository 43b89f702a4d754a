using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace L4Rt.Contracts.Generator;

/// <summary>Reads a contract interface's symbols into a <see cref="ContractModel"/>, checking what cannot be generated.</summary>
internal static class ContractReader
{
    private const int MaxWords = 63;
    private const string OperationAttribute = "L4Rt.Contracts.L4RtOperationAttribute";
    private const string OneWayAttribute = "L4Rt.Contracts.L4RtOneWayAttribute";
    private const string StateAttribute = "L4Rt.Contracts.L4RtStateAttribute";
    private const string CapabilityType = "L4Rt.Objects.Capability";
    private const string HandlerType = "L4Rt.Hosting.IL4RtHandler";
    private const string FlexpageType = "L4Rt.Contracts.Flexpage";

    internal static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static GeneratedContract Generate(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        INamedTypeSymbol type = (INamedTypeSymbol)context.TargetSymbol;
        List<DiagnosticInfo> diagnostics = [];
        string hint = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", "").Replace('<', '_').Replace('>', '_') + ".L4RtContract.g.cs";
        ContractModel? model = Read(type, context.Attributes[0], context.SemanticModel.Compilation, diagnostics, cancellationToken);
        string? source = model is not null && diagnostics.Count == 0 ? ContractEmitter.Emit(model) : null;
        return new GeneratedContract(hint, source, diagnostics);
    }

    private static ContractModel? Read(INamedTypeSymbol type, AttributeData attribute, Compilation compilation, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        Location? where = type.Locations.FirstOrDefault();
        if (type.ContainingType is not null || type.IsGenericType)
        {
            diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.UnsupportedContract, where, type.Name));
            return null;
        }

        int id = Named(attribute, "Id", 0);
        int version = Named(attribute, "Version", 0);
        long window = Named(attribute, "ReceiveWindowBytes", 16L << 20);
        if (id < 1 || id > 0x7FFF || version < 0 || version > 0xFF)
        {
            diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.ContractIdOutOfRange, where, type.Name, Text(id), Text(version)));
        }

        string baseName = type.Name.Length > 1 && type.Name[0] == 'I' && char.IsUpper(type.Name[1]) ? type.Name.Substring(1) : type.Name;
        ContractModel model = new(
            type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(),
            type.Name,
            baseName,
            type.DeclaredAccessibility == Accessibility.Public ? "public" : "internal",
            id,
            version)
        {
            Hosting = compilation.GetTypeByMetadataName(HandlerType) is not null,
            ReceiveWindowBytes = window,
        };

        ReadStates(type, model, diagnostics, where);
        Dictionary<int, OperationModel> byOpcode = [];
        int ordinal = 0;
        foreach (ISymbol member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member is IMethodSymbol { MethodKind: not MethodKind.Ordinary })
            {
                continue; // accessors: their property or event is reported
            }

            if (member is not IMethodSymbol { IsStatic: false, IsAbstract: true, IsGenericMethod: false } method)
            {
                diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.UnsupportedMember, member.Locations.FirstOrDefault(), member.Name, type.Name));
                continue;
            }

            ordinal++;
            OperationModel? op = ReadOperation(method, ordinal, model, compilation, diagnostics);
            if (op is null)
            {
                continue;
            }

            if (byOpcode.TryGetValue(op.Opcode, out OperationModel? other))
            {
                diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.DuplicateOpcode, method.Locations.FirstOrDefault(), other.Name, op.Name, type.Name, Text(op.Opcode)));
                continue;
            }

            byOpcode.Add(op.Opcode, op);
            model.Operations.Add(op);
        }

        return model;
    }

    private static void ReadStates(INamedTypeSymbol type, ContractModel model, List<DiagnosticInfo> diagnostics, Location? where)
    {
        int initials = 0;
        foreach (AttributeData a in type.GetAttributes())
        {
            if (a.AttributeClass?.ToDisplayString() != StateAttribute || a.ConstructorArguments.Length != 1)
            {
                continue;
            }

            string name = a.ConstructorArguments[0].Value as string ?? "";
            if (!SyntaxFacts.IsValidIdentifier(name) || model.States.Contains(name))
            {
                diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.BadState, where, type.Name, name));
                continue;
            }

            if (Named(a, "Initial", false))
            {
                initials++;
                model.Initial = model.States.Count;
            }

            model.States.Add(name);
        }

        if (model.States.Count > 0 && initials != 1)
        {
            diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.InitialState, where, type.Name, Text(initials)));
        }
    }

    private static OperationModel? ReadOperation(IMethodSymbol method, int ordinal, ContractModel model, Compilation compilation, List<DiagnosticInfo> diagnostics)
    {
        Location? where = method.Locations.FirstOrDefault();
        AttributeData? operation = method.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == OperationAttribute);
        bool oneWay = method.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == OneWayAttribute);
        int opcode = operation is { ConstructorArguments.Length: 1 } && operation.ConstructorArguments[0].Value is int code ? code : ordinal;
        bool ok = true;
        if (opcode < 1 || opcode > 0xFF)
        {
            diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.OpcodeOutOfRange, where, method.Name, Text(opcode)));
            ok = false;
        }

        List<ParameterModel> parameters = [];
        int requestWords = 0;
        foreach (IParameterSymbol p in method.Parameters)
        {
            Location? at = p.Locations.FirstOrDefault() ?? where;
            if (p.RefKind != RefKind.None || p.IsParams)
            {
                diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.ParameterModifier, at, p.Name, method.Name));
                ok = false;
                continue;
            }

            if (Classify(p.Type, compilation, out int words) is not { } kind || kind == ValueKind.Void)
            {
                diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.ParameterNotMarshallable, at, p.Name, method.Name, p.Type.ToDisplayString()));
                ok = false;
                continue;
            }

            requestWords += words;
            parameters.Add(new ParameterModel(p.Name, p.Type.ToDisplayString(TypeFormat), kind));
        }

        ValueKind returnKind = ValueKind.Void;
        int replyWords = 0;
        if (!method.ReturnsVoid)
        {
            if (method.ReturnsByRef || method.ReturnsByRefReadonly || Classify(method.ReturnType, compilation, out replyWords) is not { } r
                || (r == ValueKind.Capability && method.ReturnType.NullableAnnotation == NullableAnnotation.Annotated))
            {
                diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.ResultNotMarshallable, where, method.Name, method.ReturnType.ToDisplayString()));
                ok = false;
            }
            else
            {
                returnKind = r;
            }

            if (oneWay)
            {
                diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.OneWayWithResult, where, method.Name, method.ReturnType.ToDisplayString()));
                ok = false;
            }
        }

        if (requestWords > MaxWords)
        {
            diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.MessageTooLarge, where, "request", method.Name, Text(requestWords)));
            ok = false;
        }

        if (replyWords > MaxWords)
        {
            diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.MessageTooLarge, where, "reply", method.Name, Text(replyWords)));
            ok = false;
        }

        OperationModel op = new(method.Name, opcode, oneWay, parameters, method.ReturnsVoid ? "void" : method.ReturnType.ToDisplayString(TypeFormat), returnKind);
        if (operation is not null)
        {
            string? allowed = Named<string?>(operation, "AllowedIn", null);
            string? next = Named<string?>(operation, "Next", null);
            foreach (string state in (allowed ?? "").Split(',').Select(s => s.Trim()).Where(s => s.Length > 0))
            {
                int index = model.States.IndexOf(state);
                if (index < 0)
                {
                    diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.UnknownState, where, method.Name, state, model.InterfaceName));
                    ok = false;
                }
                else
                {
                    op.AllowedIn.Add(index);
                }
            }

            if (next is not null)
            {
                op.Next = model.States.IndexOf(next.Trim());
                if (op.Next < 0)
                {
                    diagnostics.Add(new DiagnosticInfo(ContractDiagnostics.UnknownState, where, method.Name, next, model.InterfaceName));
                    ok = false;
                }
            }
        }

        return ok ? op : null;
    }

    /// <summary>How <paramref name="type"/> travels and how many registers it takes at least (null: it cannot).</summary>
    private static ValueKind? Classify(ITypeSymbol type, Compilation compilation, out int words)
    {
        words = 1;
        if (type.SpecialType == SpecialType.System_String)
        {
            return ValueKind.String;
        }

        if (type is INamedTypeSymbol { IsGenericType: true } generic
            && generic.ConstructedFrom.ToDisplayString() == "System.ReadOnlySpan<T>"
            && generic.TypeArguments[0].SpecialType == SpecialType.System_Byte)
        {
            return ValueKind.Bytes;
        }

        if (type.ToDisplayString() == FlexpageType)
        {
            words = 2;
            return ValueKind.Flexpage;
        }

        if (type.SpecialType == SpecialType.System_Boolean)
        {
            return ValueKind.Bool;
        }

        INamedTypeSymbol? capability = compilation.GetTypeByMetadataName(CapabilityType);
        for (ITypeSymbol? t = type; t is not null && capability is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t, capability))
            {
                words = 2;
                return ValueKind.Capability;
            }
        }

        if (type.IsUnmanagedType && type.TypeKind is not (TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.TypeParameter)
            && Layout.SizeOf(type, 0) is { } size)
        {
            words = (size.Size + 7) / 8;
            return ValueKind.Unmanaged;
        }

        return null;
    }

    private static T Named<T>(AttributeData attribute, string name, T fallback)
    {
        foreach (KeyValuePair<string, TypedConstant> pair in attribute.NamedArguments)
        {
            if (pair.Key == name && pair.Value.Value is T value)
            {
                return value;
            }
        }

        return fallback;
    }

    private static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
