namespace L4Rt.Tests.Support;

/// <summary>
/// Multi-process tests run one class at a time: they time death detection and race replies against
/// timeouts, which a 2-core machine shared with other test classes would only blur.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "processes";
}
