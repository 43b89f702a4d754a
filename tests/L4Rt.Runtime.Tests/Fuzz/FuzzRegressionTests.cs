using L4Rt.Fuzz.Targets;
using L4Rt.Ipc;
using L4Rt.Perf;

namespace L4Rt.Tests.Fuzz;

/// <summary>
/// The fuzzer's findings as regression tests: every input kept in tests/L4Rt.Fuzz/crashes/TARGET (a crash that was
/// fixed) and in tests/L4Rt.Fuzz/corpus/TARGET, and every seed, replayed through the same target code the fuzzer runs
/// (linked from tests/L4Rt.Fuzz/Targets), here against the uninstrumented assemblies.
/// In the process collection: the regions target runs real threads and channels in this process, which the process-wide
/// meters of MetricsTests count.
/// </summary>
[Collection(L4Rt.Tests.Support.ProcessCollection.Name)]
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

    /// <summary>The regions target's honest sender writes what <see cref="L4Thread.Send(SendLink, MsgTag, L4Timeout)"/> writes: the receiver takes it, so the fuzzed receive path is the real one.</summary>
    [Fact]
    public void RegionsTargetPost_OnALink_IsTakenByTheOpenAndTheClosedWait()
    {
        using L4Thread receiver = new();
        using ReceiveLink first = receiver.CreateLink(7);
        using ReceiveLink second = receiver.CreateLink(8);
        RegionsTarget.Post(receiver, second, new MsgTag(3, 2).Raw, call: false, seq: 1);
        IpcResult taken = receiver.Wait(L4Timeout.Zero);
        Assert.Equal((L4Status.Ok, 8UL, 3, 2), (taken.Status, taken.Label, taken.Tag.Protocol, taken.Tag.Words));
        Assert.Equal([1UL, 2UL], receiver.Utcb.Mr[..2].ToArray());

        RegionsTarget.Post(receiver, first, new MsgTag(4, 1).Raw, call: true, seq: 1);
        IpcResult call = receiver.Receive(first, L4Timeout.Zero);
        Assert.Equal((L4Status.Ok, 7UL, true), (call.Status, call.Label, receiver.HasReplyCapability));
    }
}
