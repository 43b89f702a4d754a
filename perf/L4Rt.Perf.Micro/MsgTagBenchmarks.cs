using BenchmarkDotNet.Attributes;
using L4Rt.Ipc;

namespace L4Rt.Perf.Micro;

/// <summary>Encoding a tag and decoding (validating) a raw tag read from shared memory.</summary>
[MemoryDiagnoser]
public class MsgTagBenchmarks
{
    private ulong _raw = new MsgTag(7, words: 8).Raw;

    [Benchmark]
    public ulong Encode() => new MsgTag(7, words: 8, items: 0).Raw;

    [Benchmark]
    public int Decode() => MsgTag.TryDecode(_raw, out MsgTag tag) ? tag.Words : -1;
}
