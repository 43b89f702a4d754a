using System.Globalization;
using System.Text.Json;
using L4Rt.Fuzz.Engine;
using L4Rt.Fuzz.Targets;
using L4Rt.Perf;

namespace L4Rt.Fuzz;

/// <summary>
/// Coverage-guided fuzzing of the frame decoder, the broker's operations and the shared regions (docs/fuzzing.md):
/// <code>
///   dotnet run -c Release --no-build --project tests/L4Rt.Fuzz -- --target all --seconds 10 --json fuzz.json
///   … --target frame|broker|regions     one target          … --list            the targets
///   … --replay FILE [--target NAME]     one input, once     … --make-seeds      write the seeds into corpus/
///   … --save-corpus                     keep new inputs that add coverage in corpus/ (afl-cmin style)
///   … --seed N  --timeout-ms N  --crashes DIR  --corpus DIR
/// </code>
/// Exit code: 0 when no target crashed or hung, 1 when one did, 2 for a usage error.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        CoverageMap.EnsureInstalled(); // before any instrumented code runs: it writes through Trace.SharedMem unchecked
        string root = RepoRoot.Find();
        string targetName = "all";
        double seconds = 10;
        string? json = null;
        string? replay = null;
        bool makeSeeds = false;
        bool saveCorpus = false;
        bool list = false;
        int seed = Environment.TickCount;
        int timeoutMs = 2000;
        string corpus = Path.Combine(root, "tests", "L4Rt.Fuzz", "corpus");
        string crashes = Path.Combine(root, "artifacts", "fuzz", "crashes");
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--target": targetName = Value(); break;
                case "--seconds": seconds = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--json": json = Value(); break;
                case "--replay": replay = Value(); break;
                case "--make-seeds": makeSeeds = true; break;
                case "--save-corpus": saveCorpus = true; break;
                case "--list": list = true; break;
                case "--seed": seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--timeout-ms": timeoutMs = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--corpus": corpus = Path.GetFullPath(Value()); break;
                case "--crashes": crashes = Path.GetFullPath(Value()); break;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]} (see docs/fuzzing.md)");
                    return 2;
            }
        }

        if (list)
        {
            foreach (IFuzzTarget t in FuzzTargets.All)
            {
                Console.WriteLine(t.Name);
            }

            return 0;
        }

        if (replay is not null)
        {
            return Replay(replay, targetName);
        }

        IReadOnlyList<IFuzzTarget> targets = targetName == "all" ? FuzzTargets.All : FuzzTargets.Find(targetName) is { } one ? [one] : [];
        if (targets.Count == 0)
        {
            Console.Error.WriteLine($"no target {targetName}; the targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
            return 2;
        }

        if (makeSeeds)
        {
            foreach (IFuzzTarget t in targets)
            {
                string dir = Path.Combine(corpus, t.Name);
                Directory.CreateDirectory(dir);
                int count = 0;
                foreach ((string name, byte[] data) in t.Seeds())
                {
                    File.WriteAllBytes(Path.Combine(dir, $"seed-{name}.bin"), data);
                    count++;
                }

                Console.WriteLine($"[{t.Name}] {count} seeds written to {dir}");
            }

            return 0;
        }

        Console.WriteLine($"fuzzing {string.Join(", ", targets.Select(t => t.Name))}, {seconds:0.#} s each, seed {seed}; crashes go to {crashes}");
        List<FuzzReport> reports = [];
        bool failed = false;
        foreach (IFuzzTarget t in targets)
        {
            Fuzzer fuzzer = new(t, corpus, crashes, seed, TimeSpan.FromMilliseconds(timeoutMs), Console.WriteLine);
            FuzzReport report = fuzzer.Run(TimeSpan.FromSeconds(seconds), saveCorpus);
            reports.Add(report);
            if (!fuzzer.Instrumented && report.Timeouts == 0)
            {
                Console.Error.WriteLine($"[{t.Name}] no edge was recorded: L4Rt.Runtime.dll and l4rtd.dll beside the fuzzer are not instrumented (rebuild tests/L4Rt.Fuzz)");
                failed = true;
            }

            failed |= report.Crashes > 0 || report.Timeouts > 0;
            if (report.Timeouts > 0)
            {
                break; // a thread is stuck inside the target and would skew every later figure
            }
        }

        if (json is not null)
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(json));
            if (dir is not null)
            {
                Directory.CreateDirectory(dir);
            }

            File.WriteAllText(json, JsonSerializer.Serialize(reports, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true }));
        }

        foreach (FuzzReport r in reports)
        {
            Console.WriteLine($"{r.Target}: {r.Executions:N0} execs in {r.Seconds} s ({r.ExecsPerSecond:N0}/s), corpus {r.Corpus} ({r.CorpusSeed} seed + {r.CorpusNew} new), edges {r.Edges}, crashes {r.Crashes}, timeouts {r.Timeouts}");
        }

        Console.WriteLine(failed ? "fuzz: FAILED" : "fuzz: ok");
        return failed ? 1 : 0;
    }

    /// <summary>Runs one input once; the target is named or taken from the folder it lies in (corpus/NAME, crashes/NAME).</summary>
    private static int Replay(string file, string targetName)
    {
        string name = targetName != "all" ? targetName : Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(file))) ?? "";
        if (FuzzTargets.Find(name) is not { } target)
        {
            Console.Error.WriteLine($"--replay: name the target with --target (the folder '{name}' is none)");
            return 2;
        }

        try
        {
            target.Run(File.ReadAllBytes(file));
            Console.WriteLine($"[{target.Name}] {file}: ok");
            return 0;
        }
        catch (Exception e)
        {
            Console.WriteLine($"[{target.Name}] {file}: {Fuzzer.Signature(e)}");
            Console.WriteLine(e);
            return 1;
        }
    }
}
