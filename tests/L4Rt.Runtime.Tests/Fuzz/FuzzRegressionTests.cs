using L4Rt.Fuzz.Targets;
using L4Rt.Perf;

namespace L4Rt.Tests.Fuzz;

/// <summary>
/// The fuzzer's findings as regression tests: every input kept in tests/L4Rt.Fuzz/crashes/TARGET (a crash that was
/// fixed) and in tests/L4Rt.Fuzz/corpus/TARGET, and every seed, replayed through the same target code the fuzzer runs
/// (linked from tests/L4Rt.Fuzz/Targets), here against the uninstrumented assemblies.
/// </summary>
public sealed class FuzzRegressionTests
{
    [Theory]
    [InlineData("frame")]
    [InlineData("broker")]
    [InlineData("regions")]
    public void KeptInputsAndSeeds_ReplayedThroughTheirTarget_RunClean(string name)
    {
        IFuzzTarget target = FuzzTargets.Find(name) ?? throw new InvalidOperationException($"no fuzz target {name}");
        string fuzz = Path.Combine(RepoRoot.Find(), "tests", "L4Rt.Fuzz");
        List<(string Name, byte[] Data)> inputs = [.. target.Seeds().Select(s => ($"seed {s.Name}", s.Data))];
        foreach (string folder in new[] { "crashes", "corpus" })
        {
            string dir = Path.Combine(fuzz, folder, name);
            if (Directory.Exists(dir))
            {
                inputs.AddRange(Directory.GetFiles(dir, "*.bin").Order(StringComparer.Ordinal).Select(f => (Path.GetRelativePath(fuzz, f), File.ReadAllBytes(f))));
            }
        }

        Assert.NotEmpty(inputs);
        foreach ((string input, byte[] data) in inputs)
        {
            Exception? failure = Record.Exception(() => target.Run(data));
            Assert.True(failure is null, $"{name} target, {input}: {failure}");
        }
    }
}
