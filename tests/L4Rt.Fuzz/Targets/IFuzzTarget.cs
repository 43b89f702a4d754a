namespace L4Rt.Fuzz.Targets;

/// <summary>
/// One fuzz target: a deterministic, in-process function of the input bytes (no sockets, no child processes).
/// <see cref="Run"/> returns when the code under test behaved; anything it throws is a finding — an exception the
/// code's contract does not allow, or a broken invariant (<see cref="InvariantViolationException"/>). The same
/// type replays the kept crashes as regression tests (tests/L4Rt.Runtime.Tests/Fuzz).
/// </summary>
internal interface IFuzzTarget
{
    /// <summary>The name on the command line and of the corpus folder.</summary>
    string Name { get; }

    /// <summary>Runs one input; everything it creates is disposed before it returns.</summary>
    void Run(ReadOnlySpan<byte> input);

    /// <summary>Valid inputs built from real messages, the starting corpus (<c>--make-seeds</c> writes them).</summary>
    IEnumerable<(string Name, byte[] Data)> Seeds();

    /// <summary>Byte strings worth splicing in (opcodes, magics, limits), as AFL's dictionary.</summary>
    IReadOnlyList<byte[]> Dictionary { get; }

    /// <summary>A mutation that knows the input's structure (records, frame fields), or null to leave it to the generic ones.</summary>
    byte[]? MutateStructure(byte[] input, Random random, Func<byte[]> otherEntry);
}
