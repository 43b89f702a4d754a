namespace L4Rt.Fuzz.Targets;

/// <summary>Every target, by name (the fuzzer's <c>--target</c>, the corpus and crash folders, the regression tests).</summary>
internal static class FuzzTargets
{
    internal static IReadOnlyList<IFuzzTarget> All { get; } = [new FrameTarget(), new BrokerTarget(), new RegionsTarget()];

    internal static IFuzzTarget? Find(string name)
    {
        foreach (IFuzzTarget target in All)
        {
            if (string.Equals(target.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return target;
            }
        }

        return null;
    }
}
