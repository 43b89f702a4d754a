using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Perf;
using L4Rt.Perf.Reporting;
using L4Rt.Perf.Shared;
using L4Rt.Perf.Scenarios;

// The L4Rt benchmark harness: real processes, same-run baselines, a ratio per round (see perf/README.md).
//   dotnet run -c Release --project perf/L4Rt.Perf -- [--quick] [--rounds N] [--out DIR]
// Worker mode (the harness starts itself as the partner process): L4Rt.Perf worker <kind> <args>
if (args.Length > 0 && args[0] == "worker")
{
    return Worker.Run(args);
}

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        L4Rt benchmark harness: real processes, same-run C and .NET baselines, a ratio per round (perf/README.md).
        usage: L4Rt.Perf [--quick] [--rounds N] [--out DIR] [--page-faults] [--marshalling] [--bridge] [--idle [--caller-spin NS]]
          --quick     fewer iterations and 5 rounds (under a minute)
          --page-faults  only the page-fault rows (page_fault_us, page_fault_call_us), printed, nothing written
          --marshalling  only the marshalling rows (hand-written vs generated vs dynamic call RTT), printed, nothing written
          --bridge    only the gate-bridge group (bridged call and FIFO beside plain gRPC), printed, nothing written
          --call W    only the call RTT with W words beside the C spin and same-bytes ping-pongs, per round, printed
                      (--count N calls per round, --rounds R)
          --idle      only the idle-wake group, per round median/p99/max, printed, nothing written
                      (--caller-spin NS: the IPC caller's spin budget, to see its share of the tail)
          --rounds N  rounds per group (default 7, 5 with --quick)
          --out DIR   where the results go (default perf/results)
        """);
    return 0;
}

bool quick = args.Contains("--quick");
if (args.Contains("--bridge"))
{
    foreach (Metric m in await BridgePair.RunGroupAsync(RepoRoot.Find(), quick, Console.WriteLine))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{m.Name} median {m.Median:0.###} p99 {m.P99:0.###}{(m.Ratio is { } ratio ? $", {ratio:0.00}x {m.Baseline}" : "")}"));
    }

    return 0;
}

if (args.Contains("--marshalling"))
{
    // Rounds alternate the order of the three styles; the ratio is per round, then the median (as in the full run).
    MarshallingStyle[] styles = [MarshallingStyle.HandWritten, MarshallingStyle.Generated, MarshallingStyle.Dynamic];
    Dictionary<MarshallingStyle, List<double>> byStyle = styles.ToDictionary(s => s, _ => new List<double>());
    int marshalRounds = quick ? 3 : 7;
    for (int round = 0; round < marshalRounds; round++)
    {
        foreach (MarshallingStyle style in round % 2 == 0 ? styles : styles.Reverse())
        {
            byStyle[style].Add(new Stats(MarshallingRtt.Round(style, 3_000, quick ? 5_000 : 20_000)).Median);
        }
    }

    foreach (MarshallingStyle style in styles)
    {
        double[] ratios = byStyle[style].Select((v, i) => v / byStyle[MarshallingStyle.HandWritten][i]).ToArray();
        long bytes = MarshallingRtt.AllocatedPerCalls(style, 20_000);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{style,-12} median RTT {new Stats([.. byStyle[style]]).Median,6:0} ns, {new Stats(ratios).Median:0.00}x hand-written, {bytes / 20_000.0:0.##} B/call"));
    }

    return 0;
}

if (args.Contains("--idle"))
{
    // The idle-wake group alone, for chasing its tail: per round the median, p99 and max of each scenario, and the
    // collections this process ran meanwhile. --caller-spin NS sets the IPC caller's spin budget (default as shipped).
    long callerSpin = ArgValue("--caller-spin") is { } cs ? long.Parse(cs, CultureInfo.InvariantCulture) : L4Thread.DefaultSpinNanoseconds;
    CReference? cref = CReference.Build(RepoRoot.Find(), Console.Out);
    int idleOnlyRounds = quick ? 3 : 5, perRound = quick ? 200 : 400;
    for (int round = 0; round < idleOnlyRounds; round++)
    {
        int gcs = GC.CollectionCount(0);
        Stats ipc = new(IdleWake.IpcUs(perRound, 5, callerSpin)), fifoWake = new(IdleWake.FifoUs(perRound, 5));
        string cText = cref is null ? "" : $", C median {cref.Run("idle-wake", ("iterations", perRound), ("warmup", 20), ("rounds", 1), ("idle-us", 5000)).GetProperty("median").GetDouble():0.0}";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"round {round + 1}: IPC median {ipc.Median:0.0} p99 {ipc.P99:0.0} max {ipc.Max:0.0} µs; FIFO median {fifoWake.Median:0.0} p99 {fifoWake.P99:0.0} max {fifoWake.Max:0.0} µs{cText}; gen0 GCs here {GC.CollectionCount(0) - gcs}"));
    }

    return 0;
}

if (ArgValue("--fifo") is { } fifoMode)
{
    // One FIFO scenario alone, for chasing a slow or stalled round: --fifo MODE (zc, copy, pipe, async) [--record B]
    // [--count N] [--rounds R]; per round the rate, and how long the slowest round took.
    int record = ArgValue("--record") is { } rb ? int.Parse(rb, CultureInfo.InvariantCulture) : 65536;
    long count = ArgValue("--count") is { } cn ? long.Parse(cn, CultureInfo.InvariantCulture) : record >= 4096 ? 32768 : 8_000_000;
    int fifoRounds = ArgValue("--rounds") is { } fr ? int.Parse(fr, CultureInfo.InvariantCulture) : 5;
    for (int round = 0; round < fifoRounds; round++)
    {
        Stopwatch took = Stopwatch.StartNew();
        FifoThroughput.Result result = FifoThroughput.Round(record, 1 << 20, count, fifoMode);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}: {fifoMode} {record} B: {result.MsgsPerSecond / 1e6:0.000} M msgs/s, {result.Gbps:0.000} GB/s, {result.WakesPerMillion:0.0} wakes/M, {result.Relocations} moves off a shared CPU, {took.Elapsed.TotalSeconds:0.0} s"));
    }

    return 0;
}

if (ArgValue("--call") is { } callWords)
{
    // The call RTT alone beside its C baselines, for chasing the call gap: --call WORDS [--count N] [--rounds R]; per round
    // the .NET median and the C medians of the same round, and the ratio to the same-bytes C ping-pong.
    int words = int.Parse(callWords, CultureInfo.InvariantCulture);
    int calls = ArgValue("--count") is { } cc ? int.Parse(cc, CultureInfo.InvariantCulture) : 50_000;
    int callRounds = ArgValue("--rounds") is { } cr ? int.Parse(cr, CultureInfo.InvariantCulture) : 5;
    CReference? cref = CReference.Build(RepoRoot.Find(), Console.Out);
    for (int round = 0; round < callRounds; round++)
    {
        Stats call = new(CallRtt.Round(words, L4Thread.DefaultSpinNanoseconds, 5_000, calls));
        string cText = "";
        if (cref is not null)
        {
            double spin = cref.Run("spin-rtt", ("iterations", calls), ("warmup", 5_000), ("rounds", 1)).GetProperty("median").GetDouble();
            double same = cref.Run("words-rtt", ("words", words), ("iterations", calls), ("warmup", 5_000), ("rounds", 1)).GetProperty("median").GetDouble();
            cText = $"; C spin {spin:0} ns, C {words} words {same:0} ns: {call.Median / same:0.00}x same bytes, {call.Median / spin:0.00}x spin";
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}: call {words} words median {call.Median:0} ns p99 {call.P99:0} ns{cText}"));
    }

    return 0;
}

if (args.Contains("--page-faults"))
{
    using BrokerHost pagerBroker = new(RepoRoot.Find());
    (double[] faultsOnly, double[] callsOnly) = await BrokerScenarios.PageFaultUs(pagerBroker, quick ? 1000 : 5000);
    Stats f = new(faultsOnly), c1 = new(callsOnly);
    Console.WriteLine($"page_fault_us median {f.Median:0.0} p99 {f.P99:0.0}; page_fault_call_us median {c1.Median:0.0} p99 {c1.P99:0.0} (n={f.Count})");
    return 0;
}

int rounds = ArgValue("--rounds") is { } r ? Math.Max(1, int.Parse(r, CultureInfo.InvariantCulture)) : quick ? 5 : 7;
string root = RepoRoot.Find();
string outDir = ArgValue("--out") ?? Path.Combine(root, "perf", "results");
#if DEBUG
Console.WriteLine("warning: Debug build; benchmark numbers are meaningful only with -c Release");
#endif

Stopwatch total = Stopwatch.StartNew();
string mode = quick ? "quick" : "full";
Console.WriteLine($"L4Rt benchmarks ({mode}, {rounds} rounds) on {Report.MachineDescription()}");
CReference? c = CReference.Build(root, Console.Out);
int scale = quick ? 1 : 4;

// ---- Round-trip group: every round runs each L4Rt scenario and each baseline once, order alternating.
Dictionary<string, List<double>> medians = [];
Dictionary<string, List<double>> pooled = [];
void Record(string name, double[] samples)
{
    (medians.TryGetValue(name, out var m) ? m : medians[name] = []).Add(new Stats(samples).Median);
    (pooled.TryGetValue(name, out var p) ? p : pooled[name] = []).AddRange(samples);
}

void RecordC(string name, JsonElement result)
{
    (medians.TryGetValue(name, out var m) ? m : medians[name] = []).Add(result.GetProperty("median").GetDouble());
    (pooled.TryGetValue(name, out var p) ? p : pooled[name] = []).Add(result.GetProperty("p99").GetDouble());
}

List<(string Name, Action Run)> rttSteps =
[
    ("call_rtt_ns", () => Record("call_rtt_ns", CallRtt.Round(8, L4Thread.DefaultSpinNanoseconds, 5_000, 10_000 * scale))),
    ("call_rtt_futex_ns", () => Record("call_rtt_futex_ns", CallRtt.Round(8, 0, 300, 2_000 * scale))),
    ("call_async_rtt_ns", () => Record("call_async_rtt_ns", CallRtt.RoundAsync(8, 3_000, 5_000 * scale))),
    ("call_rtt_1w_ns", () => Record("call_rtt_1w_ns", CallRtt.Round(1, L4Thread.DefaultSpinNanoseconds, 3_000, 5_000 * scale))),
    ("call_rtt_63w_ns", () => Record("call_rtt_63w_ns", CallRtt.Round(63, L4Thread.DefaultSpinNanoseconds, 3_000, 5_000 * scale))),
    ("call_rtt_1000_links_ns", () => Record("call_rtt_1000_links_ns", CallRtt.Round(8, L4Thread.DefaultSpinNanoseconds, 5_000, 10_000 * scale, idleLinks: 1000))),
    ("marshal_hand_rtt_ns", () => Record("marshal_hand_rtt_ns", MarshallingRtt.Round(MarshallingStyle.HandWritten, 3_000, 5_000 * scale))),
    ("marshal_generated_rtt_ns", () => Record("marshal_generated_rtt_ns", MarshallingRtt.Round(MarshallingStyle.Generated, 3_000, 5_000 * scale))),
    ("marshal_dynamic_rtt_ns", () => Record("marshal_dynamic_rtt_ns", MarshallingRtt.Round(MarshallingStyle.Dynamic, 3_000, 5_000 * scale))),
    ("uds_rtt_ns", () => Record("uds_rtt_ns", SocketBaselines.UdsRtt(500, 3_000 * scale))),
    ("tcp_rtt_ns", () => Record("tcp_rtt_ns", SocketBaselines.TcpRtt(500, 3_000 * scale))),
    ("pipe_rtt_ns", () => Record("pipe_rtt_ns", SocketBaselines.PipeRtt(500, 3_000 * scale))),
];
if (c is not null)
{
    rttSteps.Add(("c_spin_rtt_ns", () => RecordC("c_spin_rtt_ns", c.Run("spin-rtt", ("iterations", 10_000L * scale), ("warmup", 5_000), ("rounds", 1)))));
    rttSteps.Add(("c_words_rtt_ns", () => RecordC("c_words_rtt_ns", c.Run("words-rtt", ("words", 8), ("iterations", 10_000L * scale), ("warmup", 5_000), ("rounds", 1)))));
    rttSteps.Add(("c_futex_rtt_ns", () => RecordC("c_futex_rtt_ns", c.Run("futex-rtt", ("iterations", 2_000L * scale), ("warmup", 300), ("rounds", 1)))));
}

for (int round = 0; round < rounds; round++)
{
    IEnumerable<(string Name, Action Run)> order = round % 2 == 0 ? rttSteps : Enumerable.Reverse(rttSteps);
    foreach ((string _, Action run) in order)
    {
        run();
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"round {round + 1}/{rounds}: call 8w {Last("call_rtt_ns"),6:0} ns, futex-only {Last("call_rtt_futex_ns"),7:0} ns, 1000 links {Last("call_rtt_1000_links_ns"),6:0} ns, UDS {Last("uds_rtt_ns"),7:0} ns")
        + (c is null ? "" : string.Create(CultureInfo.InvariantCulture, $" | C spin {Last("c_spin_rtt_ns"),5:0} ns, C 8 words {Last("c_words_rtt_ns"),5:0} ns, C futex {Last("c_futex_rtt_ns"),7:0} ns")) + $"  [{total.Elapsed.TotalSeconds:0}s]");
}

List<Metric> metrics = [];
void Rtt(string name, string description, string? baseline = null, double? goal = null, bool lowerIsBetter = true, string? of = null)
{
    // `of`: the measured row this metric reads (a second metric of one row, against another baseline); default: name.
    if (!medians.TryGetValue(of ?? name, out var m))
    {
        return;
    }

    double[]? ratios = null;
    if (baseline is not null && medians.TryGetValue(baseline, out var b))
    {
        ratios = m.Select((v, i) => v / b[i]).ToArray(); // per round, then the median of the ratios
    }

    metrics.Add(new Metric(name, "ns", new Stats(m).Median, new Stats(pooled[of ?? name]).P99, [.. m], description, baseline,
        ratios is null ? null : new Stats(ratios).Median, ratios, ratios is null ? null : goal, lowerIsBetter));
}

Rtt("call_rtt_ns", "Call RTT, 8 words, two processes, adaptive wait (bounded spin, then futex); ratio = this / the C ping-pong moving the same bytes (tag + 8 words each way)", c is null ? null : "c_words_rtt_ns", 1.3);
Rtt("call_rtt_vs_spin_ns", "the same 8-word call RTT against the one-line C spin ping-pong (which moves no message)", c is null ? null : "c_spin_rtt_ns", of: "call_rtt_ns");
Rtt("call_rtt_futex_ns", "Call RTT, 8 words, futex-only wait on both sides", c is null ? null : "c_futex_rtt_ns", 1.2);
Rtt("call_async_rtt_ns", "CallAsync RTT, 8 words, awaited (bounded spin, then the futex reactor: no thread held); ratio = this / call_rtt_ns", "call_rtt_ns");
Rtt("call_rtt_1w_ns", "Call RTT, 1 word, adaptive; ratio = this / the one-line C spin ping-pong", c is null ? null : "c_spin_rtt_ns", 1.3);
Rtt("call_rtt_63w_ns", "Call RTT, 63 words (a full UTCB), adaptive", c is null ? null : "c_spin_rtt_ns");
Rtt("call_rtt_1000_links_ns", "Call RTT, 8 words, receiver in open wait holding 1,000 idle links (from another process)", "call_rtt_ns", 1.2);
Rtt("marshal_hand_rtt_ns", "Call RTT of Step(int, long, double, Vector3L) → Vector3L, hand-written MR stores/loads (6 words in, 3 out), two processes, adaptive");
Rtt("marshal_generated_rtt_ns", "the same call through the generated contract client and dispatcher (6 words in, 3 out, protocol/word count checked); ratio = this / hand-written", "marshal_hand_rtt_ns");
Rtt("marshal_dynamic_rtt_ns", "the same call with dynamic MrWriter/MrReader marshalling (a type tag per value: 10 words in, 4 out, checked); ratio = this / hand-written", "marshal_hand_rtt_ns");
Rtt("c_spin_rtt_ns", "C spin ping-pong RTT (pause, acquire/release, one line each way), cc -O2; p99 = median of per-round p99");
Rtt("c_words_rtt_ns", "C spin ping-pong RTT moving a tag + 8 words each way (written by one side, read and checked by the other), cc -O2");
Rtt("c_futex_rtt_ns", "C futex ping-pong RTT (FUTEX_WAIT/FUTEX_WAKE every time), cc -O2; p99 = median of per-round p99");
Rtt("uds_rtt_ns", "Unix domain socket 64-byte request/response RTT (.NET Socket), ratio = UDS / L4Rt call (speed-up)", "call_rtt_ns", 10, lowerIsBetter: false);
Rtt("tcp_rtt_ns", "TCP loopback 64-byte request/response RTT (.NET Socket, NoDelay), ratio = TCP / L4Rt call", "call_rtt_ns", lowerIsBetter: false);
Rtt("pipe_rtt_ns", "anonymous pipes (stdin/stdout) 64-byte request/response RTT, ratio = pipe / L4Rt call", "call_rtt_ns", lowerIsBetter: false);

// ---- Idle-wake group: one message to a receiver idle for 5 ms (asleep in the kernel), one way, beside the C floor.
const int IdleMs = 5;
int idleSamples = quick ? 200 : 400;
Dictionary<string, List<double>> idleMedians = [];
Dictionary<string, List<double>> idleP99s = [];
void RecordIdle(string name, double median, double p99)
{
    (idleMedians.TryGetValue(name, out var m) ? m : idleMedians[name] = []).Add(median);
    (idleP99s.TryGetValue(name, out var p) ? p : idleP99s[name] = []).Add(p99);
}

List<(string Name, Action Run)> idleSteps =
[
    ("idle_wake_ipc_us", () => { double[] s = IdleWake.IpcUs(idleSamples, IdleMs); Stats st = new(s); RecordIdle("idle_wake_ipc_us", st.Median, st.P99); }),
    ("idle_wake_fifo_us", () => { double[] s = IdleWake.FifoUs(idleSamples, IdleMs); Stats st = new(s); RecordIdle("idle_wake_fifo_us", st.Median, st.P99); }),
];
if (c is not null)
{
    idleSteps.Add(("c_idle_wake_us", () =>
    {
        JsonElement result = c.Run("idle-wake", ("iterations", idleSamples), ("warmup", 20), ("rounds", 1), ("idle-us", IdleMs * 1000));
        RecordIdle("c_idle_wake_us", result.GetProperty("median").GetDouble(), result.GetProperty("p99").GetDouble());
    }));
}

int idleRounds = quick ? 3 : 5;
for (int round = 0; round < idleRounds; round++)
{
    foreach ((string _, Action run) in round % 2 == 0 ? idleSteps : Enumerable.Reverse(idleSteps))
    {
        run();
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"idle wake round {round + 1}/{idleRounds}: IPC {idleMedians["idle_wake_ipc_us"][^1],6:0.0} µs, FIFO {idleMedians["idle_wake_fifo_us"][^1],6:0.0} µs")
        + (c is null ? "" : string.Create(CultureInfo.InvariantCulture, $", C futex {idleMedians["c_idle_wake_us"][^1],6:0.0} µs")) + $"  [{total.Elapsed.TotalSeconds:0}s]");
}

void Idle(string name, string description, string? baseline, double? goal)
{
    List<double> m = idleMedians[name];
    double[]? ratios = baseline is not null && idleMedians.TryGetValue(baseline, out var b) ? m.Select((v, i) => v / b[i]).ToArray() : null;
    double p99 = new Stats([.. idleP99s[name]]).Median; // the same for L4Rt and C: the median of per-round p99
    metrics.Add(new Metric(name, "µs", new Stats(m).Median, p99, [.. m], description, baseline,
        ratios is null ? null : new Stats(ratios).Median, ratios, ratios is null ? null : goal, true));
}

Idle("idle_wake_ipc_us", $"one-way wake of a direct-link server idle {IdleMs} ms in open wait: its take stamp minus the caller's send stamp ({idleSamples} per round; p99 = median of per-round p99)", c is null ? null : "c_idle_wake_us", 1.2);
Idle("idle_wake_fifo_us", $"one-way wake of a FIFO consumer idle {IdleMs} ms in Read: its read stamp minus the producer's write stamp ({idleSamples} per round; p99 = median of per-round p99)", c is null ? null : "c_idle_wake_us", 1.2);
if (c is not null)
{
    Idle("c_idle_wake_us", $"C: a process idle {IdleMs} ms in FUTEX_WAIT, woken by a stamp + FUTEX_WAKE, cc -O2; p99 = median of per-round p99", null, null);
}

// ---- Throughput group: one receiving thread in open wait, 1, 8 and 64 senders in other processes.
TimeSpan window = TimeSpan.FromMilliseconds(quick ? 400 : 1500);
List<(string Name, double Value)> throughputBars = [];
foreach (int senders in new[] { 1, 8, 64 })
{
    double rate = Throughput.OpenWaitMsgsPerSecond(senders, window);
    string name = senders == 1 ? "send_msgs_per_s" : $"open_wait_{senders}_senders_msgs_per_s";
    metrics.Add(new Metric(name, "msgs/s", rate, rate, [rate], $"one-way Send (2 words) into one thread in open wait from {senders} sender thread(s) in {Math.Min(senders, 4)} process(es)", LowerIsBetter: false));
    throughputBars.Add(($"L4Rt send, {senders} sender(s)", rate));
    Console.WriteLine($"open wait, {senders} sender(s): {rate / 1e6:0.00} M msgs/s  [{total.Elapsed.TotalSeconds:0}s]");
}

(double udsGbps, double udsRate) = SocketBaselines.UdsStream(64, quick ? 64L << 20 : 256L << 20);
metrics.Add(new Metric("uds_64b_msgs_per_s", "msgs/s", udsRate, udsRate, [udsRate], "one-way UDS stream of 64-byte writes (.NET Socket), a message per write", LowerIsBetter: false));
throughputBars.Add(("UDS 64 B writes", udsRate));
(double uds64kGbps, _) = SocketBaselines.UdsStream(64 * 1024, quick ? 1L << 30 : 4L << 30);
metrics.Add(new Metric("uds_64k_gbps", "GB/s", uds64kGbps, uds64kGbps, [uds64kGbps], "one-way UDS stream of 64 KiB writes (.NET Socket)", LowerIsBetter: false));
Console.WriteLine($"UDS one-way: 64 B {udsRate / 1e6:0.00} M msgs/s, 64 KiB {uds64kGbps:0.00} GB/s  [{total.Elapsed.TotalSeconds:0}s]");

// ---- FIFO group: zero-copy and copying API against the C SPSC rings (like with like), rounds alternating.
Dictionary<string, List<double>> fifo = [];
void AddFifo(string name, double value) => (fifo.TryGetValue(name, out var l) ? l : fifo[name] = []).Add(value);
long small = quick ? 2_000_000 : 8_000_000, large = quick ? 8192 : 32768; // 64 B: msgs; 64 KiB: 0.5 GiB / 2 GiB
double wakesPerMillion = 0;
long fifoAllocated = 0;
for (int round = 0; round < (quick ? 3 : 5); round++)
{
    List<Action> steps =
    [
        () => { var r = FifoThroughput.Round(64, 1 << 20, small, "zc"); AddFifo("fifo_64b_msgs_per_s", r.MsgsPerSecond); wakesPerMillion = Math.Max(wakesPerMillion, r.WakesPerMillion); fifoAllocated = Math.Max(fifoAllocated, r.ConsumerAllocatedBytes); },
        () => { var r = FifoThroughput.Round(65536, 1 << 20, large, "zc"); AddFifo("fifo_64k_gbps", r.Gbps); },
        () => { var r = FifoThroughput.Round(64, 1 << 20, small, "copy"); AddFifo("fifo_64b_copy_msgs_per_s", r.MsgsPerSecond); },
        () => { var r = FifoThroughput.Round(65536, 1 << 20, large, "copy"); AddFifo("fifo_64k_copy_gbps", r.Gbps); },
        () => { var r = FifoThroughput.Round(1024, 1 << 20, small / 4, "zc"); AddFifo("fifo_1k_msgs_per_s", r.MsgsPerSecond); },
        () => { var r = FifoThroughput.Round(65536, 1 << 20, large, "pipe"); AddFifo("fifo_pipe_64k_gbps", r.Gbps); },
        () => { var r = FifoThroughput.Round(65536, 1 << 20, large, "async"); AddFifo("fifo_async_64k_gbps", r.Gbps); },
    ];
    if (c is not null)
    {
        steps.Add(() => AddFifo("c_spsc_64b_msgs_per_s", c.Run("spsc-zc", ("record", 64), ("ring", 1 << 20), ("messages", small), ("rounds", 1)).GetProperty("msgs_per_s").GetDouble()));
        steps.Add(() => AddFifo("c_spsc_64k_gbps", c.Run("spsc-zc", ("record", 65536), ("ring", 1 << 20), ("messages", large), ("rounds", 1)).GetProperty("gbps").GetDouble()));
        steps.Add(() => AddFifo("c_spsc_copy_64b_msgs_per_s", c.Run("spsc-copy", ("record", 64), ("ring", 1 << 20), ("messages", small), ("rounds", 1)).GetProperty("msgs_per_s").GetDouble()));
        steps.Add(() => AddFifo("c_spsc_copy_64k_gbps", c.Run("spsc-copy", ("record", 65536), ("ring", 1 << 20), ("messages", large), ("rounds", 1)).GetProperty("gbps").GetDouble()));
    }

    if (round % 2 == 1)
    {
        steps.Reverse();
    }

    foreach (Action step in steps)
    {
        step();
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"fifo round {round + 1}: 64 B {fifo["fifo_64b_msgs_per_s"][^1] / 1e6:0.0} M/s, 64 KiB {fifo["fifo_64k_gbps"][^1]:0.00} GB/s, copy 64 KiB {fifo["fifo_64k_copy_gbps"][^1]:0.00} GB/s")
        + (c is null ? "" : string.Create(CultureInfo.InvariantCulture, $" | C 64 B {fifo["c_spsc_64b_msgs_per_s"][^1] / 1e6:0.0} M/s, C 64 KiB {fifo["c_spsc_64k_gbps"][^1]:0.00} GB/s")) + $"  [{total.Elapsed.TotalSeconds:0}s]");
}

void FifoMetric(string name, string unit, string description, string? baseline, double? goal)
{
    List<double> values = fifo[name];
    double[]? ratios = baseline is not null && fifo.TryGetValue(baseline, out var b) ? values.Select((v, i) => v / b[i]).ToArray() : null;
    metrics.Add(new Metric(name, unit, new Stats(values).Median, new Stats(values).Min, [.. values], description + " (p99 column: the slowest round)",
        ratios is null ? null : baseline, ratios is null ? null : new Stats(ratios).Median, ratios, ratios is null ? null : goal, LowerIsBetter: false));
}

FifoMetric("fifo_64b_msgs_per_s", "msgs/s", "FIFO 64 B records, zero-copy (words written and read in place), 1 MiB ring", "c_spsc_64b_msgs_per_s", 0.5);
FifoMetric("fifo_64k_gbps", "GB/s", "FIFO 64 KiB records, zero-copy, 1 MiB ring", "c_spsc_64k_gbps", 0.8);
FifoMetric("fifo_64b_copy_msgs_per_s", "msgs/s", "FIFO 64 B records, copying API: producer Write(span), consumer Read(dest, timeout, out len) copies out of the ring and releases", "c_spsc_copy_64b_msgs_per_s", 0.8);
FifoMetric("fifo_64k_copy_gbps", "GB/s", "FIFO 64 KiB records, copying API: producer Write(span), consumer Read(dest, timeout, out len)", "c_spsc_copy_64k_gbps", 0.9);
FifoMetric("fifo_1k_msgs_per_s", "msgs/s", "FIFO 1 KiB records, zero-copy", null, null);
FifoMetric("fifo_pipe_64k_gbps", "GB/s", "FIFO through PipeWriter → PipeReader adapters, 64 KiB writes", null, null);
FifoMetric("fifo_async_64k_gbps", "GB/s", "FIFO 64 KiB records, zero-copy, consumer awaiting WaitForDataAsync when the ring is empty (no thread held); ratio = this / fifo_64k_gbps", "fifo_64k_gbps", null);
if (c is not null)
{
    FifoMetric("c_spsc_64b_msgs_per_s", "msgs/s", "C SPSC ring, 64 B records, zero-copy, cc -O2", null, null);
    FifoMetric("c_spsc_64k_gbps", "GB/s", "C SPSC ring, 64 KiB records, zero-copy, cc -O2", null, null);
    FifoMetric("c_spsc_copy_64b_msgs_per_s", "msgs/s", "C SPSC ring, 64 B records, memcpy in and out, cc -O2", null, null);
    FifoMetric("c_spsc_copy_64k_gbps", "GB/s", "C SPSC ring, 64 KiB records, memcpy in and out, cc -O2", null, null);
}

metrics.Add(new Metric("fifo_wakeups_per_million", "calls/M records", wakesPerMillion, wakesPerMillion, [wakesPerMillion], "futex wake calls (both sides) per million 64 B records (worst round)"));
metrics.Add(new Metric("fifo_alloc_bytes", "bytes/record", fifoAllocated / (double)small, fifoAllocated / (double)small, [fifoAllocated], "bytes allocated by the consuming thread per 64 B record (read + release)", Goal: 0));
throughputBars.Add(("FIFO 64 B zero-copy", new Stats(fifo["fifo_64b_msgs_per_s"]).Median));
if (c is not null)
{
    throughputBars.Add(("C SPSC 64 B", new Stats(fifo["c_spsc_64b_msgs_per_s"]).Median));
}

// ---- Broker group: link setup, control-plane RTT, IRQ latency.
using (BrokerHost broker = new(root))
{
    (double[] firstCall, double[] setupOnly, double[] callAfter) = await BrokerScenarios.LinkSetupUs(broker, quick ? 600 : 2000);
    Stats setup = new(firstCall);
    metrics.Add(new Metric("link_setup_us", "µs", setup.Median, setup.P99, [setup.Median],
        $"first send of a new thread through a gate: broker link setup + mappings + one call to a receiver that may sleep (n={setup.Count})", Goal: 200));
    Stats prepare = new(setupOnly);
    Stats firstAfter = new(callAfter);
    metrics.Add(new Metric("link_prepare_us", "µs", prepare.Median, prepare.P99, [prepare.Median], $"link setup alone (Gate.Prepare: control call, region creation, mappings), n={prepare.Count}"));
    metrics.Add(new Metric("link_first_call_us", "µs", firstAfter.Median, firstAfter.P99, [firstAfter.Median], $"the first call right after a prepared link (receiver asleep), n={firstAfter.Count}"));
    Stats control = new(await BrokerScenarios.ControlRttUs(broker, quick ? 2000 : 10_000));
    metrics.Add(new Metric("control_rtt_us", "µs", control.Median, control.P99, [control.Median], $"control-plane request/response SDK → l4rtd → SDK (factory usage, async), n={control.Count}"));
    double callNs = medians.TryGetValue("call_rtt_ns", out var callRounds) ? new Stats(callRounds).Median : double.NaN;
    foreach ((string name, bool memory, string what) in new[] { ("call_cap_item_rtt_us", false, "one gate capability mapped"), ("call_mem_item_rtt_us", true, "one 4 KiB flexpage, mapped into the server's window and unmapped after its reply") })
    {
        Stats item = new(await BrokerScenarios.ItemCallUs(broker, quick ? 1000 : 4000, memory));
        double ratio = item.Median * 1000 / callNs;
        metrics.Add(new Metric(name, "µs", item.Median, item.P99, [item.Median],
            $"Call RTT with {what} (slow path: broker offer + accept, words on the link), two processes; ratio = this / call_rtt_ns (n={item.Count})",
            double.IsNaN(callNs) ? null : "call_rtt_ns", double.IsNaN(callNs) ? null : ratio, double.IsNaN(callNs) ? null : [ratio]));
    }

    (double[] faults, double[] faultCalls) = await BrokerScenarios.PageFaultUs(broker, quick ? 1000 : 5000);
    Stats fault = new(faults);
    Stats faultCall = new(faultCalls);
    double faultRatio = fault.Median * 1000 / callNs;
    metrics.Add(new Metric("page_fault_us", "µs", fault.Median, fault.P99, [fault.Median],
        $"first touch of a page of a paged dataspace, served by a pager in another process (userfaultfd → fault thread → PageFault call → UFFDIO_COPY → wake); ratio = this / call_rtt_ns (n={fault.Count})",
        double.IsNaN(callNs) ? null : "call_rtt_ns", double.IsNaN(callNs) ? null : faultRatio, double.IsNaN(callNs) ? null : [faultRatio]));
    double callRatio = faultCall.Median / fault.Median;
    metrics.Add(new Metric("page_fault_call_us", "µs", faultCall.Median, faultCall.P99, [faultCall.Median],
        $"the same PageFault call made directly for a fresh page (IPC + the pager placing it, no fault); ratio = this / page_fault_us: the share of a fault that is the IPC and the placing, the rest is userfaultfd and the wake (n={faultCall.Count})",
        "page_fault_us", callRatio, [callRatio]));

    Stats irq = new(await IrqLatency.RunUs(broker, quick ? 1000 : 5000));
    metrics.Add(new Metric("irq_latency_us", "µs", irq.Median, irq.P99, [irq.Median], $"IRQ trigger (direct, shared memory) → delivery in another process's open wait, n={irq.Count}"));
    Console.WriteLine($"link setup {setup.Median:0} µs (prepare {prepare.Median:0}, first call {firstAfter.Median:0}); control RTT {control.Median:0.0} µs; IRQ latency {irq.Median:0.0} µs; page fault {fault.Median:0.0} µs (call alone {faultCall.Median:0.0})  [{total.Elapsed.TotalSeconds:0}s]");
}

// ---- Bridge group: a call through two gate bridges (gRPC, mutual TLS, loopback) beside a plain gRPC unary call.
metrics.AddRange(await BridgePair.RunGroupAsync(root, quick, line => Console.WriteLine($"{line}  [{total.Elapsed.TotalSeconds:0}s]")));

foreach ((MarshallingStyle style, string name) in new[] { (MarshallingStyle.HandWritten, "hand"), (MarshallingStyle.Generated, "generated"), (MarshallingStyle.Dynamic, "dynamic") })
{
    double perCall = MarshallingRtt.AllocatedPerCalls(style, 20_000) / 20_000.0;
    metrics.Add(new Metric($"marshal_{name}_alloc_bytes", "bytes/call", perCall, perCall, [perCall], $"bytes allocated by the calling thread per Step call, {style} marshalling, after warm-up", Goal: 0));
}

long allocated = CallRtt.AllocatedPerCalls(20_000);
metrics.Add(new Metric("call_alloc_bytes", "bytes/call", allocated / 20_000.0, allocated / 20_000.0, [allocated / 20_000.0], "bytes allocated by the calling thread per Call after warm-up", Goal: 0));

// ---- Output: console table, JSON, Markdown, PNG plots.
Console.WriteLine();
Console.WriteLine(Report.Markdown(metrics, mode, DateTime.UtcNow));
Report.Write(outDir, metrics, mode, Console.Out);
List<(string, double[])> cdf = [];
foreach (string name in new[] { "call_rtt_ns", "call_rtt_1000_links_ns", "call_rtt_futex_ns", "uds_rtt_ns", "tcp_rtt_ns", "pipe_rtt_ns" })
{
    if (pooled.TryGetValue(name, out var samples))
    {
        cdf.Add((name, [.. samples]));
    }
}

Plots.LatencyCdf(Path.Combine(outDir, "latest-rtt.png"), $"Round-trip time distributions ({mode}, {DateTime.UtcNow:yyyy-MM-dd})", cdf);
Plots.Bars(Path.Combine(outDir, "latest-throughput.png"), "One-way messages per second", "msgs/s", throughputBars);
double Med(string name) => new Stats(fifo[name]).Median;
List<(string, (int, double)[])> bySize =
[
    ("L4Rt FIFO zero-copy", [(64, Med("fifo_64b_msgs_per_s") * 64 / 1e9), (1024, Med("fifo_1k_msgs_per_s") * 1024 / 1e9), (65536, Med("fifo_64k_gbps"))]),
    ("L4Rt FIFO copying", [(64, Med("fifo_64b_copy_msgs_per_s") * 64 / 1e9), (65536, Med("fifo_64k_copy_gbps"))]),
];
if (c is not null)
{
    bySize.Add(("C SPSC zero-copy", [(64, Med("c_spsc_64b_msgs_per_s") * 64 / 1e9), (65536, Med("c_spsc_64k_gbps"))]));
    bySize.Add(("C SPSC copying", [(64, Med("c_spsc_copy_64b_msgs_per_s") * 64 / 1e9), (65536, Med("c_spsc_copy_64k_gbps"))]));
}

Plots.ThroughputBySize(Path.Combine(outDir, "latest-fifo-by-size.png"), $"FIFO throughput vs record size ({mode})", bySize);
Console.WriteLine($"plots: {Path.Combine(outDir, "latest-rtt.png")}, latest-throughput.png, latest-fifo-by-size.png");
Console.WriteLine($"done in {total.Elapsed.TotalSeconds:0.0} s");
return 0;

double Last(string name) => medians.TryGetValue(name, out var m) ? m[^1] : double.NaN;

string? ArgValue(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}
