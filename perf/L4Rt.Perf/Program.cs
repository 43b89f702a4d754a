using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Perf;
using L4Rt.Perf.Reporting;
using L4Rt.Perf.Scenarios;

// The L4Rt benchmark harness: real processes, same-run baselines, ratios per round (see shared PERF.md).
//   dotnet run -c Release --project perf/L4Rt.Perf -- [--quick] [--rounds N]
// Worker mode (started by the harness itself): L4Rt.Perf worker <kind> <args>

if (args.Length > 0 && args[0] == "worker")
{
    return Worker.Run(args);
}

bool quick = args.Contains("--quick");
int rounds = quick ? 5 : 7;
int roundsAt = Array.IndexOf(args, "--rounds");
if (roundsAt >= 0 && roundsAt + 1 < args.Length)
{
    rounds = Math.Max(1, int.Parse(args[roundsAt + 1], CultureInfo.InvariantCulture));
}

#if DEBUG
Console.WriteLine("warning: this is a Debug build; benchmark numbers are only meaningful with -c Release");
#endif

string root = RepoRoot.Find();
Stopwatch total = Stopwatch.StartNew();
Console.WriteLine($"L4Rt benchmarks ({(quick ? "quick" : "full")}, {rounds} rounds) on {Report.MachineDescription()}");
CReference? c = CReference.Build(root, Console.Out);

int spinIterations = quick ? 10_000 : 40_000;
int futexIterations = quick ? 2_000 : 8_000;
List<double> adaptive = [], futex = [], cSpin = [], cFutex = [];
List<double> adaptiveRounds = [], futexRounds = [], cSpinRounds = [], cFutexRounds = [];
List<double> spinRatios = [], futexRatios = [];
List<double> cSpinP99 = [], cFutexP99 = [];

for (int round = 0; round < rounds; round++)
{
    // Alternate the order so neither side always runs in the warmer or cooler half of a round.
    var steps = new List<Action>
    {
        () => Add(CallRtt.Round(8, L4Thread.DefaultSpinNanoseconds, 5_000, spinIterations), adaptive, adaptiveRounds),
        () => Add(CallRtt.Round(8, 0, 500, futexIterations), futex, futexRounds),
    };
    if (c is not null)
    {
        steps.Add(() => AddC(c.Run("spin-rtt", ("iterations", spinIterations), ("warmup", 5_000), ("rounds", 1)), cSpinRounds));
        steps.Add(() => AddC(c.Run("futex-rtt", ("iterations", futexIterations), ("warmup", 500), ("rounds", 1)), cFutexRounds));
    }

    if (round % 2 == 1)
    {
        steps.Reverse();
    }

    foreach (Action step in steps)
    {
        step();
    }

    if (c is not null)
    {
        spinRatios.Add(adaptiveRounds[^1] / cSpinRounds[^1]);
        futexRatios.Add(futexRounds[^1] / cFutexRounds[^1]);
    }

    Console.WriteLine($"round {round + 1}/{rounds}: call 8w adaptive {adaptiveRounds[^1],8:0} ns, futex-only {futexRounds[^1],8:0} ns"
        + (c is null ? "" : $" | C spin {cSpinRounds[^1],6:0} ns, C futex {cFutexRounds[^1],8:0} ns") + $"  [{total.Elapsed.TotalSeconds:0}s]");
}

List<Metric> metrics = [];
metrics.Add(Rtt("call_rtt_ns", adaptive, adaptiveRounds, "Call RTT, 8 words, two processes, adaptive wait (20 µs spin, then futex)",
    c is null ? null : "c_spin_rtt_ns", spinRatios, 1.3));
metrics.Add(Rtt("call_rtt_futex_ns", futex, futexRounds, "Call RTT, 8 words, two processes, futex-only wait (no spin)",
    c is null ? null : "c_futex_rtt_ns", futexRatios, 1.2));
if (c is not null)
{
    metrics.Add(new Metric("c_spin_rtt_ns", "ns", Median(cSpinRounds), Median(cSpinP99), [.. cSpinRounds], "C spin ping-pong RTT (pause, acquire/release, one line each way), cc -O2"));
    metrics.Add(new Metric("c_futex_rtt_ns", "ns", Median(cFutexRounds), Median(cFutexP99), [.. cFutexRounds], "C futex ping-pong RTT (FUTEX_WAIT/FUTEX_WAKE, no spin), cc -O2"));
}

// Broker scenarios: link setup (first call of a new thread through a gate) and control-plane round trip.
using (BrokerHost broker = new(root))
{
    (double[] firstCall, double[] setupOnly, double[] callAfter) = await BrokerScenarios.LinkSetupUs(broker, quick ? 600 : 2000);
    Stats setup = new(firstCall);
    metrics.Add(new Metric("link_setup_us", "µs", setup.Median, setup.P99, [setup.Median],
        $"first send of a new thread through a gate: broker link setup + mapping + one call to a receiver that may sleep (n={setup.Count})",
        Goal: 200, LowerIsBetter: true));
    Stats prepare = new(setupOnly);
    Stats firstAfter = new(callAfter);
    metrics.Add(new Metric("link_prepare_us", "µs", prepare.Median, prepare.P99, [prepare.Median], $"link setup alone (Gate.Prepare: control call, region creation and mappings), n={prepare.Count}"));
    metrics.Add(new Metric("link_first_call_us", "µs", firstAfter.Median, firstAfter.P99, [firstAfter.Median], $"the first call right after a prepared link (receiver asleep in futex), n={firstAfter.Count}"));
    Console.WriteLine($"link: prepare median {prepare.Median:0.0} p99 {prepare.P99:0.0} µs; first call after it median {firstAfter.Median:0.0} p99 {firstAfter.P99:0.0} µs");
    Stats control = new(await BrokerScenarios.ControlRttUs(broker, quick ? 2000 : 10_000));
    metrics.Add(new Metric("control_rtt_us", "µs", control.Median, control.P99, [control.Median],
        $"control-plane request/response SDK → l4rtd → SDK (factory usage), async, n={control.Count}"));
    Console.WriteLine($"link setup median {setup.Median:0.0} µs p99 {setup.P99:0.0} µs; control RTT median {control.Median:0.0} µs p99 {control.P99:0.0} µs  [{total.Elapsed.TotalSeconds:0}s]");
}

long allocated = CallRtt.AllocatedPerCalls(20_000);
metrics.Add(new Metric("call_alloc_bytes", "bytes/call", allocated / 20_000.0, allocated / 20_000.0, [allocated / 20_000.0], "bytes allocated by the calling thread per Call after warm-up"));

Console.WriteLine();
Console.WriteLine(Report.Markdown(metrics, quick ? "quick" : "full", DateTime.UtcNow));
Report.Write(Path.Combine(root, "perf", "results"), metrics, quick ? "quick" : "full", Console.Out);
Console.WriteLine($"done in {total.Elapsed.TotalSeconds:0.0} s");
return 0;

static void Add(double[] samples, List<double> all, List<double> roundMedians)
{
    all.AddRange(samples);
    roundMedians.Add(new Stats(samples).Median);
}

void AddC(JsonElement result, List<double> roundMedians)
{
    roundMedians.Add(result.GetProperty("median").GetDouble());
    (ReferenceEquals(roundMedians, cSpinRounds) ? cSpinP99 : cFutexP99).Add(result.GetProperty("p99").GetDouble());
}

static double Median(List<double> values) => new Stats(values).Median;

static Metric Rtt(string name, List<double> all, List<double> roundMedians, string description, string? baseline, List<double> ratios, double goal)
{
    Stats pooled = new(all);
    return new Metric(name, "ns", Median(roundMedians), pooled.P99, [.. roundMedians], description,
        baseline, baseline is null ? null : Median(ratios), baseline is null ? null : [.. ratios], baseline is null ? null : goal);
}
