using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using L4Rt;
using L4Rt.Cli;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;

// l4rt — the operator's view of a running l4rtd: what it holds, its names, and a few pokes.
// Exit codes: 0 done; 1 the operation failed (a call's status was not Ok) or l4rt itself failed (System.CommandLine's
// handler prints the exception); 2 a usage error (the arguments are wrong) or the broker refused or is not there.
Option<string> socket = new("--socket") { Description = "The broker's socket (default: $L4RT_SOCKET, $XDG_RUNTIME_DIR/l4rt/broker.sock or /tmp/l4rt-$UID/broker.sock)", Recursive = true };
Option<bool> json = new("--json") { Description = "Print machine-readable JSON" };

Command status = new("status", "Tasks, threads, gates, IRQs, channels, dataspaces, factories (quota use) and names held by the broker") { json };
status.SetAction(Guarded(async (parse, ct) =>
{
    await using L4Task task = await Connect(parse.GetValue(socket), ct);
    string text = await task.GetBrokerStatusJsonAsync(ct);
    if (parse.GetValue(json))
    {
        Console.WriteLine(text);
        return 0;
    }

    PrintStatus(JsonDocument.Parse(text).RootElement);
    return 0;
}));

Command names = new("names", "Registered names") { json };
names.SetAction(Guarded(async (parse, ct) =>
{
    await using L4Task task = await Connect(parse.GetValue(socket), ct);
    IReadOnlyList<NameInfo> list = await task.Names.ListAsync(ct);
    if (parse.GetValue(json))
    {
        Console.WriteLine(JsonSerializer.Serialize(list.Select(n => new { name = n.Name, kind = n.Kind.ToString(), rights = n.Rights.ToString(), registrant = n.RegistrantTaskId })));
        return 0;
    }

    Table(["name", "kind", "rights", "registrant task"], list.Select(n => new[] { n.Name, n.Kind.ToString(), n.Rights.ToString(), n.RegistrantTaskId.ToString(CultureInfo.InvariantCulture) }));
    return 0;
}));

Argument<string> irqName = CliArguments.Name("The name an IRQ is registered under");
Option<int> count = CliArguments.Number("--count", "How many times to trigger", min: 1, defaultValue: 1);
Command trigger = new("trigger", "Trigger an IRQ registered under a name (through the broker)") { irqName, count };
trigger.SetAction(Guarded(async (parse, ct) =>
{
    await using L4Task task = await Connect(parse.GetValue(socket), ct);
    Irq irq = await task.Names.QueryAsync<Irq>(parse.GetValue(irqName)!, TimeSpan.Zero, ct);
    int n = parse.GetValue(count);
    for (int i = 0; i < n; i++)
    {
        await irq.TriggerViaBrokerAsync(ct);
    }

    Console.WriteLine($"triggered '{parse.GetValue(irqName)}' {n} time(s)");
    return 0;
}));
Command irqCommand = new("irq", "IRQ objects") { trigger };

Argument<string> gateName = CliArguments.Name("The name a gate is registered under");
Argument<ulong[]> words = CliArguments.Words();
Option<int> protocol = CliArguments.Number("--protocol", "The message tag's protocol (user protocols are 0 or more)", min: 0, defaultValue: 0);
Option<L4Timeout> timeout = CliArguments.Timeout("--timeout", "Timeout of each phase (send, then receive)", defaultMs: 1000);
Command call = new("call", "Call a gate registered under a name and print the reply") { gateName, words, protocol, timeout };
call.SetAction(Guarded(async (parse, ct) =>
{
    await using L4Task task = await Connect(parse.GetValue(socket), ct);
    Gate gate = await task.Names.QueryAsync<Gate>(parse.GetValue(gateName)!, TimeSpan.Zero, ct);
    ulong[] mr = parse.GetValue(words) ?? [];
    using L4Thread me = new();
    mr.CopyTo(me.Utcb.Mr);
    System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
    IpcResult r = me.Call(gate, new MsgTag(parse.GetValue(protocol), mr.Length), parse.GetValue(timeout));
    double us = clock.Elapsed.TotalMicroseconds;
    if (!r.IsOk)
    {
        Console.Error.WriteLine($"call failed: {r.Status} ({us:0} µs, including link setup)");
        return 1;
    }

    Console.WriteLine($"reply: protocol {r.Tag.Protocol}, {r.Tag.Words} word(s): {string.Join(' ', me.Utcb.Mr[..r.Tag.Words].ToArray())}  ({us:0} µs, including link setup)");
    return 0;
}));

Argument<string[]> benchArgs = new("harness-arguments") { Description = "Passed to the harness (e.g. --quick, --rounds 9)", Arity = ArgumentArity.ZeroOrMore };
Command bench = new("bench", "Run the benchmark harness (perf/L4Rt.Perf, Release) from the L4Rt source tree") { benchArgs };
bench.TreatUnmatchedTokensAsErrors = false;
bench.SetAction(async (parse, ct) =>
{
    string? repo = null;
    for (DirectoryInfo? dir = new(Environment.CurrentDirectory); dir is not null && repo is null; dir = dir.Parent)
    {
        repo = File.Exists(Path.Combine(dir.FullName, "L4Rt.sln")) ? dir.FullName : null;
    }

    if (repo is null)
    {
        Console.Error.WriteLine("l4rt bench: run it inside the L4Rt source tree (the harness and its C baselines live in perf/)");
        return 2;
    }

    System.Diagnostics.ProcessStartInfo info = new("dotnet") { WorkingDirectory = repo };
    foreach (string arg in new[] { "run", "-c", "Release", "--project", Path.Combine("perf", "L4Rt.Perf"), "--" }.Concat(parse.GetValue(benchArgs) ?? []).Concat(parse.UnmatchedTokens))
    {
        info.ArgumentList.Add(arg);
    }

    using System.Diagnostics.Process harness = System.Diagnostics.Process.Start(info)!;
    await harness.WaitForExitAsync(ct);
    return harness.ExitCode;
});

RootCommand root = new("l4rt — inspect and poke a running L4Rt broker (l4rtd); run its benchmarks") { socket, status, names, irqCommand, call, bench };
ParseResult parsed = root.Parse(args);
if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction errors)
{
    errors.ShowHelp = false; // the error alone on stderr; --help shows the rest
    await parsed.InvokeAsync();
    return 2;
}

return await parsed.InvokeAsync();

// What the broker answers with is not a crash: one line on stderr. Anything else is left to System.CommandLine's
// default exception handler.
static Func<ParseResult, CancellationToken, Task<int>> Guarded(Func<ParseResult, CancellationToken, Task<int>> action) => async (parse, ct) =>
{
    try
    {
        return await action(parse, ct);
    }
    catch (L4RtException e)
    {
        Console.Error.WriteLine($"l4rt: {e.Message}");
        return 2;
    }
};

static Task<L4Task> Connect(string? socket, CancellationToken ct) =>
    L4Task.ConnectAsync(new L4TaskOptions { SocketPath = string.IsNullOrEmpty(socket) ? BrokerEndpoint.DefaultSocketPath() : socket, Name = "l4rt-cli" }, ct);

static void PrintStatus(JsonElement s)
{
    JsonElement broker = s.GetProperty("broker");
    Console.WriteLine($"broker pid {broker.GetProperty("pid")} on {broker.GetProperty("socket")}");
    Console.WriteLine();
    Table(["task", "pid", "uid", "name", "caps", "flexpages", "send links", "control calls", "bytes used/quota", "objects used/quota"],
        s.GetProperty("tasks").EnumerateArray().Select(t => new[]
        {
            t.GetProperty("id").ToString(), t.GetProperty("pid").ToString(), t.GetProperty("uid").ToString(), t.GetProperty("name").GetString()!,
            t.GetProperty("capabilities").ToString(), t.TryGetProperty("receivedFlexpages", out JsonElement flexpages) ? flexpages.ToString() : "-",
            t.GetProperty("sendLinks").ToString(), t.GetProperty("controlCalls").ToString(),
            $"{t.GetProperty("quota").GetProperty("usedBytes")}/{t.GetProperty("quota").GetProperty("bytes")}",
            $"{t.GetProperty("quota").GetProperty("usedObjects")}/{t.GetProperty("quota").GetProperty("objects")}",
        }));
    Section(s, "threads", ["thread", "task", "gates", "irqs"], t => [t.GetProperty("id").ToString(), t.GetProperty("task").ToString(), t.GetProperty("gates").ToString(), t.GetProperty("irqs").ToString()]);
    Section(s, "gates", ["gate", "task", "thread", "links"], g => [g.GetProperty("id").ToString(), g.GetProperty("task").ToString(), g.GetProperty("thread").ToString(), g.GetProperty("links").ToString()]);
    Section(s, "irqs", ["irq", "task", "thread", "broker triggers"], i => [i.GetProperty("id").ToString(), i.GetProperty("task").ToString(), i.GetProperty("thread").ToString(), i.GetProperty("triggersThroughBroker").ToString()]);
    Section(s, "channels", ["channel", "task", "capacity", "producer task", "consumer task"], c => [c.GetProperty("id").ToString(), c.GetProperty("task").ToString(), c.GetProperty("capacity").ToString(), c.GetProperty("producer").ToString(), c.GetProperty("consumer").ToString()]);
    Section(s, "dataspaces", ["dataspace", "task", "size", "caps", "mapped through", "pager"], d => [d.GetProperty("id").ToString(), d.GetProperty("task").ToString(), d.GetProperty("size").ToString(), d.GetProperty("capabilities").ToString(), d.GetProperty("mappings").ToString(), Pager(d)]);
    Section(s, "factories", ["factory", "task", "bytes used/quota", "objects used/quota"], f => [f.GetProperty("id").ToString(), f.GetProperty("task").ToString(), $"{f.GetProperty("usedBytes")}/{f.GetProperty("bytes")}", $"{f.GetProperty("usedObjects")}/{f.GetProperty("objects")}"]);
    Section(s, "names", ["name", "kind", "rights", "registrant"], n => [n.GetProperty("name").GetString()!, n.GetProperty("kind").GetString()!, n.GetProperty("rights").GetString()!, n.GetProperty("registrant").ToString()]);

    // Gate bridges (l4rt-bridge tasks): the names they imported from other hosts are the names they registered here;
    // what they export to which peers each says in its task note.
    Console.WriteLine();
    Table(["bridge", "task", "imported names (registered here)", "exported names (to peers)", "caps held"],
        s.GetProperty("tasks").EnumerateArray()
            .Where(t => t.GetProperty("name").GetString()!.StartsWith("l4rt-bridge:", StringComparison.Ordinal))
            .Select(t => new[]
            {
                t.GetProperty("name").GetString()!["l4rt-bridge:".Length..], t.GetProperty("id").ToString(),
                ImportedBy(s, t.GetProperty("id").ToString()),
                t.TryGetProperty("note", out JsonElement note) && note.GetString() is { Length: > 0 } text ? text : "-",
                t.GetProperty("capabilities").ToString(),
            }));
}

static string ImportedBy(JsonElement s, string task)
{
    string list = string.Join(" ", s.GetProperty("names").EnumerateArray().Where(n => n.GetProperty("registrant").ToString() == task).Select(n => n.GetProperty("name").GetString()));
    return list.Length > 0 ? list : "-";
}

// A paged dataspace's pager: its gate, fault timeout, how many tasks were given the pager capability, backings mapped.
static string Pager(JsonElement dataspace) =>
    dataspace.TryGetProperty("paged", out JsonElement paged) && paged.ValueKind == JsonValueKind.Object
        ? $"gate {paged.GetProperty("gate")}, {paged.GetProperty("faultTimeoutMs")} ms, {paged.GetProperty("tasksWithPager")} tasks, {paged.GetProperty("backingMappings")} backings"
        : "-";

static void Section(JsonElement s, string property, string[] headers, Func<JsonElement, string[]> row)
{
    Console.WriteLine();
    Table(headers, s.GetProperty(property).EnumerateArray().Select(row));
}

static void Table(string[] headers, IEnumerable<string[]> rows)
{
    List<string[]> all = [headers, .. rows];
    int[] widths = headers.Select((_, c) => all.Max(r => r[c].Length)).ToArray();
    foreach (string[] row in all)
    {
        Console.WriteLine(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
    }

    if (all.Count == 1)
    {
        Console.WriteLine("(none)");
    }
}
