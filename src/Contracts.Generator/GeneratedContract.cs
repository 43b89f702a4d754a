using System;
using System.Collections.Generic;
using System.Linq;

namespace L4Rt.Contracts.Generator;

/// <summary>What the generator makes of one contract interface: its source (none when it has errors) and its diagnostics.</summary>
internal sealed class GeneratedContract : IEquatable<GeneratedContract>
{
    public GeneratedContract(string hintName, string? source, IReadOnlyList<DiagnosticInfo> diagnostics)
    {
        HintName = hintName;
        Source = source;
        Diagnostics = diagnostics;
    }

    public string HintName { get; }

    public string? Source { get; }

    public IReadOnlyList<DiagnosticInfo> Diagnostics { get; }

    public bool Equals(GeneratedContract? other) => other is not null && HintName == other.HintName
        && Source == other.Source && Diagnostics.SequenceEqual(other.Diagnostics);

    public override bool Equals(object? obj) => Equals(obj as GeneratedContract);

    public override int GetHashCode() => HintName.GetHashCode();
}
