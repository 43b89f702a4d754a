using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace L4Rt.Contracts.Generator;

/// <summary>A diagnostic as plain, comparable data (no symbols), so the incremental pipeline can cache it.</summary>
internal sealed class DiagnosticInfo : IEquatable<DiagnosticInfo>
{
    public DiagnosticInfo(DiagnosticDescriptor descriptor, Location? location, params string[] arguments)
    {
        Id = descriptor.Id;
        FilePath = location?.SourceTree?.FilePath;
        Span = location?.SourceSpan ?? default;
        Lines = location?.GetLineSpan().Span ?? default;
        Arguments = arguments;
    }

    public string Id { get; }

    public string? FilePath { get; }

    public TextSpan Span { get; }

    public LinePositionSpan Lines { get; }

    public string[] Arguments { get; }

    public Diagnostic ToDiagnostic() => Diagnostic.Create(
        ContractDiagnostics.ById(Id),
        FilePath is null ? Location.None : Location.Create(FilePath, Span, Lines),
        Arguments);

    public bool Equals(DiagnosticInfo? other) => other is not null && Id == other.Id && FilePath == other.FilePath
        && Span == other.Span && Arguments.SequenceEqual(other.Arguments);

    public override bool Equals(object? obj) => Equals(obj as DiagnosticInfo);

    public override int GetHashCode() => (Id.GetHashCode() * 31) + Span.GetHashCode();
}
