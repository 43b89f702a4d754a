namespace L4Rt.Fuzz.Engine;

/// <summary>One target's run, as the JSON output and docs/reliability.md show it (one row per target).</summary>
internal sealed record FuzzReport(
    string Target,
    long Executions,
    double ExecsPerSecond,
    int CorpusSeed,
    int CorpusNew,
    int Corpus,
    int Edges,
    int Crashes,
    int Timeouts,
    double Seconds,
    IReadOnlyList<string> CrashFiles);
