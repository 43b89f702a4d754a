using System.Diagnostics;
using System.Security.Cryptography;
using L4Rt.Fuzz.Targets;

namespace L4Rt.Fuzz.Engine;

/// <summary>
/// An in-process AFL-style loop over one target: run the corpus, then pick an entry, mutate it (havoc, splice, the
/// target's structure-aware edit), run it with the edge map cleared, and keep it if it set a new bucket bit. An
/// exception out of the target is a crash: de-duplicated by its type and the innermost L4Rt frame, minimised by
/// deleting blocks while the same crash reproduces, and saved. An execution longer than the timeout is a hang: a
/// watchdog on the calling thread saves the input and ends this target's run (the stuck thread is abandoned).
/// </summary>
internal sealed class Fuzzer(IFuzzTarget target, string corpusDir, string crashDir, int seed, TimeSpan timeout, Action<string> log)
{
    private const int MaxLength = 4096;
    private const int MaxKept = 40;

    private readonly CoverageMap _map = new();
    private readonly List<byte[]> _corpus = [];
    private readonly HashSet<string> _crashSignatures = [];
    private readonly List<string> _crashFiles = [];
    private readonly Random _random = new(seed);
    private int _seedCount;
    private long _executions;
    private long _execStarted; // Stopwatch ticks at the start of the running execution; 0 between executions
    private volatile bool _stop;
    private byte[] _current = [];
    private int _timeouts;

    internal FuzzReport Run(TimeSpan budget, bool saveCorpus)
    {
        // An exception on a thread the target started (a kernel timer, say) ends the process, as a hard crash would
        // end AFL's child: the input that was running is saved first.
        UnhandledExceptionEventHandler unhandled = (_, e) =>
        {
            string file = SaveCrash(Volatile.Read(ref _current), e.ExceptionObject.ToString() ?? "", "crash-unhandled");
            log($"[{target.Name}] CRASH on another thread, the fuzzer ends: {file}");
        };
        AppDomain.CurrentDomain.UnhandledException += unhandled;
        try
        {
            return RunGuarded(budget, saveCorpus);
        }
        finally
        {
            AppDomain.CurrentDomain.UnhandledException -= unhandled;
        }
    }

    private FuzzReport RunGuarded(TimeSpan budget, bool saveCorpus)
    {
        Stopwatch clock = Stopwatch.StartNew();
        Thread worker = new(() => Loop(clock, budget)) { IsBackground = true, Name = $"fuzz-{target.Name}" };
        worker.Start();
        TimeSpan nextProgress = TimeSpan.FromSeconds(5);
        bool hung = false;
        while (!worker.Join(100))
        {
            long started = Volatile.Read(ref _execStarted);
            if (started != 0 && Stopwatch.GetElapsedTime(started) > timeout)
            {
                hung = true;
                _stop = true;
                _timeouts++;
                SaveCrash(Volatile.Read(ref _current), $"timeout: one execution ran longer than {timeout.TotalMilliseconds:0} ms", "timeout");
                log($"[{target.Name}] timeout: one execution ran longer than {timeout.TotalMilliseconds:0} ms; this target's run ends here");
                break;
            }

            if (clock.Elapsed >= nextProgress)
            {
                nextProgress += TimeSpan.FromSeconds(5);
                Progress(clock.Elapsed);
            }
        }

        double seconds = clock.Elapsed.TotalSeconds;
        Progress(clock.Elapsed);
        if (!hung && saveCorpus)
        {
            SaveCorpus();
        }

        long executions = Interlocked.Read(ref _executions);
        return new FuzzReport(target.Name, executions, Math.Round(executions / Math.Max(seconds, 0.001), 1), _seedCount, _corpus.Count - _seedCount, _corpus.Count,
            _map.Edges, _crashSignatures.Count, _timeouts, Math.Round(seconds, 1), [.. _crashFiles]);
    }

    /// <summary>Whether any edge was seen at all: false means the assemblies under test are not instrumented.</summary>
    internal bool Instrumented => _map.Edges > 0;

    private void Progress(TimeSpan elapsed)
    {
        long executions = Interlocked.Read(ref _executions);
        log($"[{target.Name}] {elapsed.TotalSeconds,6:0.0} s  execs {executions,9:N0} ({executions / Math.Max(elapsed.TotalSeconds, 0.001),7:N0}/s)  " +
            $"corpus {_corpus.Count} ({_seedCount} seed + {_corpus.Count - _seedCount} new)  edges {_map.Edges}  crashes {_crashSignatures.Count}");
    }

    private void Loop(Stopwatch clock, TimeSpan budget)
    {
        foreach (byte[] input in LoadInitial())
        {
            if (_stop)
            {
                return;
            }

            Execute(input, keepAlways: true);
        }

        _seedCount = _corpus.Count;
        if (_map.Edges == 0)
        {
            return; // not instrumented: mutating blind would only burn the budget (the caller reports it)
        }

        if (_corpus.Count == 0)
        {
            _corpus.Add([0]);
            _seedCount = 1;
        }

        while (!_stop && clock.Elapsed < budget)
        {
            byte[] parent = Pick();
            byte[]? child;
            int roll = _random.Next(10);
            Mutator mutator = new(_random, target.Dictionary, MaxLength);
            if (roll == 0)
            {
                child = mutator.Splice(parent, Pick());
                child = child is null ? mutator.Havoc(parent) : mutator.Havoc(child);
            }
            else if (roll <= 2)
            {
                child = target.MutateStructure(parent, _random, Pick) ?? mutator.Havoc(parent);
                if (_random.Next(2) == 0)
                {
                    child = mutator.Havoc(child);
                }
            }
            else
            {
                child = mutator.Havoc(parent);
            }

            if (child.Length <= MaxLength)
            {
                Execute(child, keepAlways: false);
            }
        }
    }

    /// <summary>Entries added lately are tried more often (they are where the new coverage is), the rest uniformly.</summary>
    private byte[] Pick()
    {
        if (_corpus.Count > _seedCount && _random.Next(3) == 0)
        {
            int recent = Math.Min(8, _corpus.Count - _seedCount);
            return _corpus[_corpus.Count - 1 - _random.Next(recent)];
        }

        return _corpus[_random.Next(_corpus.Count)];
    }

    private void Execute(byte[] input, bool keepAlways)
    {
        Volatile.Write(ref _current, input);
        _map.Reset();
        Exception? failure = null;
        Volatile.Write(ref _execStarted, Stopwatch.GetTimestamp());
        try
        {
            target.Run(input);
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            Volatile.Write(ref _execStarted, 0);
        }

        Interlocked.Increment(ref _executions);
        bool isNew = _map.MergeNew();
        if (failure is not null)
        {
            Crash(input, failure);
            return;
        }

        if (isNew || keepAlways)
        {
            _corpus.Add(input);
        }
    }

    private void Crash(byte[] input, Exception failure)
    {
        string signature = Signature(failure);
        if (!_crashSignatures.Add(signature))
        {
            return;
        }

        byte[] minimal = Minimise(input, signature);
        string file = SaveCrash(minimal, failure.ToString(), "crash");
        log($"[{target.Name}] CRASH {signature} ({input.Length} → {minimal.Length} bytes): {file}");
    }

    /// <summary>Deletes ever smaller blocks while the same crash reproduces (at most 4096 tries).</summary>
    private byte[] Minimise(byte[] input, string signature)
    {
        byte[] best = input;
        int tries = 0;
        for (int block = Math.Max(1, best.Length / 2); block >= 1 && tries < 4096; block /= 2)
        {
            for (int at = 0; at + block <= best.Length && tries < 4096;)
            {
                byte[] candidate = [.. best.AsSpan(0, at), .. best.AsSpan(at + block)];
                tries++;
                if (Reproduces(candidate, signature))
                {
                    best = candidate;
                }
                else
                {
                    at += block;
                }
            }
        }

        return best;
    }

    private bool Reproduces(byte[] input, string signature)
    {
        try
        {
            target.Run(input);
            return false;
        }
        catch (Exception e)
        {
            return Signature(e) == signature;
        }
    }

    /// <summary>The exception's type and the innermost frame of L4Rt code it passed through.</summary>
    internal static string Signature(Exception failure)
    {
        StackTrace trace = new(failure, fNeedFileInfo: false);
        foreach (StackFrame frame in trace.GetFrames())
        {
            if (frame.GetMethod() is { DeclaringType: { } type } method && (type.FullName ?? "").StartsWith("L4Rt.", StringComparison.Ordinal))
            {
                return $"{failure.GetType().Name} at {type.FullName}.{method.Name}";
            }
        }

        return failure.GetType().Name;
    }

    private string SaveCrash(byte[] input, string description, string kind)
    {
        string dir = Path.Combine(crashDir, target.Name);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, $"{kind}-{Hash(input)}.bin");
        File.WriteAllBytes(path, input);
        File.WriteAllText(Path.ChangeExtension(path, ".txt"), description + Environment.NewLine);
        _crashFiles.Add(path);
        return path;
    }

    /// <summary>The target's seeds and the kept corpus (which holds the seeds too, once written), each input once.</summary>
    private IEnumerable<byte[]> LoadInitial()
    {
        HashSet<string> seen = [];
        string dir = Path.Combine(corpusDir, target.Name);
        IEnumerable<byte[]> files = Directory.Exists(dir) ? Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(File.ReadAllBytes) : [];
        foreach (byte[] data in target.Seeds().Select(s => s.Data).Concat(files))
        {
            if (seen.Add(Hash(data)))
            {
                yield return data;
            }
        }
    }

    /// <summary>
    /// Keeps the corpus small, as afl-cmin does: entries are replayed smallest first on a fresh map, and an entry found
    /// in this run is written to the corpus folder only if it still adds coverage (at most <see cref="MaxKept"/>).
    /// </summary>
    private void SaveCorpus()
    {
        string dir = Path.Combine(corpusDir, target.Name);
        Directory.CreateDirectory(dir);
        HashSet<string> existing = [.. Directory.GetFiles(dir).Select(f => Hash(File.ReadAllBytes(f)))];
        CoverageMap fresh = new();
        int kept = 0;
        foreach (byte[] input in _corpus.Take(_seedCount).Concat(_corpus.Skip(_seedCount).Where(i => i.Length <= 512).OrderBy(i => i.Length)))
        {
            fresh.Reset();
            try
            {
                target.Run(input);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                continue;
            }

            string hash = Hash(input);
            if (fresh.MergeNew() && !existing.Contains(hash) && kept < MaxKept && _corpus.IndexOf(input) >= _seedCount)
            {
                File.WriteAllBytes(Path.Combine(dir, $"found-{hash}.bin"), input);
                kept++;
            }
        }

        log($"[{target.Name}] corpus: {kept} new entries kept in {dir}");
    }

    private static string Hash(byte[] input) => Convert.ToHexStringLower(SHA1.HashData(input))[..12];
}
