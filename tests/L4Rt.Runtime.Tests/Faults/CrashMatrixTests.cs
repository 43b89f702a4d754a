using System.Diagnostics;
using System.Text;
using System.Text.Json;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Memory;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;
using Xunit.Abstractions;

namespace L4Rt.Tests.Faults;

/// <summary>
/// The crash matrix (#13): every role × every point where it applies, the process playing the role SIGKILLed there,
/// then what the other party sees (the status, and how long after the kill), that nothing it had committed is lost,
/// and that the broker returns to its baseline (objects, capabilities, quota, names, descriptors, mappings; RSS within
/// noise). The task rows share one broker (each restores its baseline before the next); the broker rows kill their own.
/// Every row is written to the summary (<see cref="CrashMatrixFixture.SummaryPath"/>) for docs/reliability.md.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class CrashMatrixTests(CrashMatrixFixture fixture, ITestOutputHelper output) : IClassFixture<CrashMatrixFixture>
{
    /// <summary>The asserted bound on detection; the product's target is 100 ms (the summary keeps every measurement).</summary>
    public const int DetectionBoundMs = 2000;

    /// <summary>How long a survivor may stay blocked before the row calls it a hang.</summary>
    public const int HangBoundMs = 10_000;

    private delegate Task<Seen> Scenario(CrashScenario s);

    private sealed record Row(string Expected, Scenario Run);

    /// <summary>Role × point → what the survivor must see, and how the row gets there.</summary>
    private static readonly Dictionary<(string Role, string Point), Row> s_rows = new()
    {
        [("caller", "idle")] = new("server waits on; next call served", CallerIdle),
        [("caller", "send")] = new("ReceiveTimeout", CallerBlockedInSend),
        [("caller", "mid-call")] = new("DestinationDeleted", CallerMidCall),
        [("caller", "mid-reply")] = new("Ok", CallerMidReply),
        [("caller", "link-setup")] = new("no link left; next call served", CallerDuringLinkSetup),
        [("receiver", "idle")] = new("DestinationDeleted", ReceiverIdle),
        [("receiver", "receive")] = new("DestinationDeleted", ReceiverInOpenWait),
        [("receiver", "mid-call")] = new("DestinationDeleted", ReceiverMidCall),
        [("receiver", "link-setup")] = new("DestinationDeleted", ReceiverDuringLinkSetup),
        [("irq-holder", "idle")] = new("Ok: 5 triggers delivered", IrqHolderIdle),
        [("fifo-producer", "idle")] = new("DestinationDeleted after 10 records", ProducerIdle),
        [("fifo-producer", "mid-record")] = new("DestinationDeleted after 10 records", ProducerMidRecord),
        [("fifo-producer", "send")] = new("DestinationDeleted after all records", ProducerBlockedOnFullRing),
        [("fifo-consumer", "idle")] = new("DestinationDeleted", ConsumerIdle),
        [("fifo-consumer", "receive")] = new("DestinationDeleted", ConsumerBlockedOnEmptyRing),
        [("fifo-consumer", "mid-record")] = new("DestinationDeleted", ConsumerMidRecord),
        [("registrant", "idle")] = new("NameNotFound", RegistrantIdle),
        [("name-waiter", "receive")] = new("pending query released; the name still registers", NameWaiterBlocked),
        [("cap-holder", "idle")] = new("derived capability and link released", CapHolderIdle),
        [("cap-holder", "item-transfer")] = new("ReceiveTimeout", CapHolderDuringItemTransfer),
        [("cap-holder", "item-offer")] = new("ReceiveTimeout", CapHolderOfferingToAStoppedBroker), // item transfer, one step earlier: the offer still in the broker's socket
        [("mapper", "idle")] = new("committed bytes kept; mapping released", MapperIdle),
        // The pager created the dataspace: it is destroyed with it and every mapping revoked, which reads InvalidCapability
        // (DataspaceTests.CreatorKilled_…), unless the reader's fault reaches the dead pager's link before the revocation
        // reaches the reader: DestinationDeleted. Both are seen; which one is a race (see the report).
        [("pager", "idle")] = new("DestinationDeleted|InvalidCapability", PagerIdle),
        [("pager", "mid-call")] = new("DestinationDeleted|InvalidCapability", PagerMidFault), // the same race: the failed fault call or the revocation tears the mapping down first
        [("broker", "idle")] = new("BrokerLost", BrokerIdle),
        [("broker", "receive")] = new("BrokerLost", BrokerReceiverInOpenWait),
        [("broker", "send")] = new("BrokerLost", BrokerCallerBlockedInSend),
        [("broker", "mid-call")] = new("BrokerLost", BrokerMidCall),
        [("broker", "mid-record")] = new("DestinationDeleted", BrokerConsumerMidRecord),
        [("broker", "link-setup")] = new("BrokerLost", BrokerDuringLinkSetup),
        [("broker", "item-transfer")] = new("BrokerLost", BrokerDuringItemTransfer),
    };

    /// <summary>The combinations left out, and why (written to the summary with the rows).</summary>
    public static readonly (string Role, string Point, string Why)[] NotApplicable =
    [
        ("caller", "receive", "a caller's receive phase is the mid-call row: it waits for the reply to the request the server holds"),
        ("caller", "mid-record", "no FIFO record is involved in a call"),
        ("caller", "item-transfer", "the caller offering an item is the cap-holder × item-transfer row"),
        ("receiver", "send", "a receiver's only send is its reply, which never blocks (sent with a zero timeout)"),
        ("receiver", "mid-reply", "a reply is published by one state write: before it the caller is mid-call (the receiver × mid-call row), after it the reply is delivered (caller × mid-reply)"),
        ("receiver", "mid-record", "no FIFO record is involved in a call"),
        ("receiver", "item-transfer", "a receiver accepts items inside its wait, atomically with the words; killed before, it is the receiver × receive row"),
        ("irq-holder", "send|receive|mid-call|mid-reply", "triggering an IRQ is one atomic update of the receiver's doorbell and a wake: it never blocks and has no reply"),
        ("irq-holder", "mid-record|link-setup|item-transfer", "an IRQ has no record, no link (the broker sets up its doorbell word when it is created) and carries no items"),
        ("fifo-producer|fifo-consumer", "mid-call|mid-reply|link-setup|item-transfer", "a channel has no calls, replies or items; attaching is one control call answered with the region (a task killed there is a task killed idle)"),
        ("fifo-producer", "receive", "a producer never receives"),
        ("fifo-consumer", "send", "a consumer never sends (releasing never blocks)"),
        ("registrant", "send|receive|mid-call|mid-reply|mid-record|link-setup|item-transfer", "registering is one control call; a registrant that serves its gate is the receiver rows"),
        ("name-waiter", "idle|send|mid-call|mid-reply|mid-record|link-setup|item-transfer", "a name query is one control call; the only point with broker state is while the broker holds it (the receive row)"),
        ("cap-holder", "send|receive|mid-call|mid-reply|mid-record|link-setup", "holding a capability has no protocol state beyond the idle and the offered-not-accepted points"),
        ("mapper", "send|receive|mid-call|mid-reply|mid-record|link-setup|item-transfer", "a mapping of a plain dataspace has no protocol state: a store is visible as it is made"),
        ("pager", "send|receive", "a pager between faults waits in an open wait: that is the pager × idle row"),
        ("pager", "mid-reply", "a pager supplies the page, then replies with one state write: killed between, the page is kept and the fault is the mid-call row"),
        ("pager", "mid-record|link-setup|item-transfer", "fault messages carry words only; the pager's link is set up by the broker when the dataspace is mapped"),
        ("broker", "mid-reply", "the broker is not on the reply path: a broker killed while the server replies is the mid-call row"),
    ];

    public static TheoryData<string, string> TaskRows => RowsWhere(r => r.Role is not ("broker" or "pager"));

    public static TheoryData<string, string> PagerRows => RowsWhere(r => r.Role == "pager");

    public static TheoryData<string, string> BrokerRows => RowsWhere(r => r.Role == "broker");

    [Theory]
    [MemberData(nameof(TaskRows))]
    public async Task TaskKilled_AtPoint_SurvivorSeesItsStatus_BrokerReturnsToBaseline(string role, string point) =>
        await RunSharedBrokerRowAsync(role, point);

    [UserFaultFdTheory]
    [MemberData(nameof(PagerRows))]
    public async Task PagerKilled_AtPoint_FaultingSideSeesItsStatus_BrokerReturnsToBaseline(string role, string point) =>
        await RunSharedBrokerRowAsync(role, point);

    [Theory]
    [MemberData(nameof(BrokerRows))]
    public async Task BrokerKilled_AtPoint_ClientSeesBrokerGone_NeverHangs(string role, string point)
    {
        Row row = s_rows[(role, point)];
        using BrokerProcess broker = new();
        L4Task observer = await broker.ConnectAsync("observer");
        try
        {
            await using CrashScenario s = await CrashScenario.StartAsync(broker, observer, role, point);
            Seen seen = await BoundedAsync(row, s);
            Report(role, point, row, seen, restored: null, restoreMs: null, note: "the broker is gone: no baseline to return to");
        }
        finally
        {
            await observer.DisposeAsync();
        }
    }

    private async Task RunSharedBrokerRowAsync(string role, string point)
    {
        Row row = s_rows[(role, point)];
        BrokerSnapshot baseline = await AwaitQuietBaselineAsync();
        Seen seen;
        string? survivorDiff;
        await using (CrashScenario s = await CrashScenario.StartAsync(fixture.Broker, fixture.Observer, role, point))
        {
            seen = await BoundedAsync(row, s);
            survivorDiff = s.SurvivorDifference;
        }

        BrokerSnapshot after = baseline;
        Stopwatch restoring = Stopwatch.StartNew();
        long restoredAt = await PollAsync(async () => (after = await BrokerSnapshot.TakeAsync(fixture.Broker, fixture.Observer)).IsAt(baseline), 10_000);
        bool restored = restoredAt >= 0 && survivorDiff is null;
        Report(role, point, row, seen, restored, restoredAt >= 0 ? restoring.Elapsed.TotalMilliseconds : null, survivorDiff);
        Assert.True(survivorDiff is null, survivorDiff);
        Assert.True(restoredAt >= 0, $"the broker never returned to its baseline\nbaseline {baseline}\nnow      {after}\nmemfd mappings now: {BrokerSnapshot.DescribeMemfdMappings(fixture.Broker)}\nbroker output:\n{fixture.Broker.Output}");
    }

    /// <summary>How long a whole row may take before it fails as a hang (its own steps are bounded by <see cref="HangBoundMs"/> each).</summary>
    public const int RowBoundMs = 90_000;

    /// <summary>
    /// Runs the row off the test's thread (rows block on data-plane calls) and fails it, named, if it takes longer than
    /// <see cref="RowBoundMs"/>: a survivor that never returns must fail its row, not stall the whole test run.
    /// </summary>
    private static async Task<Seen> BoundedAsync(Row row, CrashScenario s)
    {
        Task<Seen> run = Task.Run(() => row.Run(s));
        try
        {
            return await run.WaitAsync(TimeSpan.FromMilliseconds(RowBoundMs));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"hang: the row {s.Role} × {s.Point} did not finish within {RowBoundMs / 1000} s\nbroker output:\n{s.Broker.Output}");
            throw;
        }
    }

    private static long s_lastKill, s_lastKillStarted;

    /// <summary>
    /// Kills the victim and notes when: the row's detection times are measured from the stamp taken after the kill call
    /// returned; the one taken before bounds them from below (the tree kill also enumerates the descendants, and a survivor
    /// watching the victim can see its death before that call returns: detected "-0.1 ms after the kill").
    /// </summary>
    private static long Kill(CrashScenario s)
    {
        s_lastKillStarted = Stopwatch.GetTimestamp();
        return s_lastKill = s.KillVictim();
    }

    /// <summary>Kills the victim and waits (bounded) until the broker has dropped its task; when it was first seen gone.</summary>
    private static async Task<long> KillAndAwaitGoneAsync(CrashScenario s)
    {
        Kill(s);
        return await AwaitGoneAsync(s);
    }

    private static async Task<long> AwaitGoneAsync(CrashScenario s)
    {
        long gone = await s.AwaitVictimGoneAsync();
        Assert.True(gone > 0, "the broker never dropped the victim task");
        return gone;
    }

    /// <summary>
    /// Starts the victim, stops the broker, lets the victim send its one request (it prints <paramref name="sentLine"/>
    /// first), kills it while the request still waits in the stopped broker's socket, continues the broker and waits
    /// until it has dropped the victim's task.
    /// </summary>
    private static async Task<long> KillWithRequestInAStoppedBrokerAsync(CrashScenario s, string sentLine)
    {
        using TempDir dir = new();
        string go = Path.Combine(dir.Path, "go");
        await s.StartVictimAsync("READY", go);
        s.Broker.Stop();
        try
        {
            File.WriteAllText(go, "");
            s.Victim!.WaitForLine(sentLine);
            Thread.Sleep(300); // no state to wait on inside a stopped broker: give the victim time to send its request
            Kill(s);
        }
        finally
        {
            s.Broker.Continue();
        }

        return await AwaitGoneAsync(s);
    }

    private static long KillBroker(CrashScenario s)
    {
        s_lastKillStarted = Stopwatch.GetTimestamp();
        return s_lastKill = s.Broker.Kill();
    }

    private void Report(string role, string point, Row row, Seen seen, bool? restored, double? restoreMs, string? note)
    {
        // Seen while the kill call was still running counts as 0 ms; seen before it began would be a report of a death that had not happened.
        Assert.True(seen.At <= 0 || seen.At >= s_lastKillStarted, $"{role} × {point}: the survivor saw {seen.Outcome} before the kill was sent");
        double? detectionMs = seen.At > 0 ? Math.Max(0, Stopwatch.GetElapsedTime(s_lastKill, seen.At).TotalMilliseconds) : null;
        CrashOutcome outcome = new(role, point, row.Expected, seen.Outcome, detectionMs is { } d ? Math.Round(d, 2) : null, restored, restoreMs is { } r ? Math.Round(r, 1) : null, note);
        output.WriteLine(fixture.Record(outcome));
        Assert.Contains(seen.Outcome, row.Expected.Split('|')); // a row may name more than one acceptable outcome
        if (detectionMs is { } ms)
        {
            Assert.True(ms <= DetectionBoundMs, $"{role} × {point}: detected {ms:0.0} ms after the kill (bound {DetectionBoundMs} ms)"); // not before it: asserted above
        }
    }

    /// <summary>The broker's state with only the observer connected, once it stops changing (the previous row's last releases).</summary>
    private async Task<BrokerSnapshot> AwaitQuietBaselineAsync()
    {
        BrokerSnapshot snapshot = await BrokerSnapshot.TakeAsync(fixture.Broker, fixture.Observer);
        Assert.True(await PollAsync(async () => (snapshot = await BrokerSnapshot.TakeAsync(fixture.Broker, fixture.Observer)).Tasks == 1, 10_000) >= 0, $"tasks left from before: {snapshot}");
        return snapshot;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; the Stopwatch timestamp it first held, or -1 after <paramref name="timeoutMs"/>.</summary>
    public static async Task<long> PollAsync(Func<Task<bool>> condition, int timeoutMs)
    {
        Stopwatch clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
            {
                return Stopwatch.GetTimestamp();
            }

            if (clock.ElapsedMilliseconds > timeoutMs)
            {
                return -1;
            }

            await Task.Delay(2);
        }
    }

    private static TheoryData<string, string> RowsWhere(Func<(string Role, string Point), bool> filter)
    {
        TheoryData<string, string> data = [];
        foreach ((string Role, string Point) key in s_rows.Keys.Where(filter))
        {
            data.Add(key.Role, key.Point);
        }

        return data;
    }

    // ── callers ────────────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>A server on the survivor's gate: answers every call (MR0 + 1), notes every failed wait, ends when aborted.</summary>
    private sealed class Server
    {
        private readonly Thread _thread;

        public Server(L4Thread thread)
        {
            Thread = thread;
            _thread = new(Serve) { IsBackground = true, Name = "crash-matrix server" };
            _thread.Start();
        }

        public L4Thread Thread { get; }

        public List<(L4Status Status, long At)> Failures { get; } = [];

        public void Stop()
        {
            Thread.Abort();
            Assert.True(_thread.Join(HangBoundMs), "the server loop did not stop when aborted");
        }

        private void Serve()
        {
            IpcResult msg = Thread.Wait(L4Timeout.Never);
            while (msg.Status != L4Status.Aborted)
            {
                if (!msg.IsOk)
                {
                    lock (Failures)
                    {
                        Failures.Add((msg.Status, Stopwatch.GetTimestamp()));
                    }

                    msg = Thread.Wait(L4Timeout.Never);
                    continue;
                }

                Thread.Utcb.Mr[0]++;
                msg = Thread.ReplyAndWait(msg.Tag, L4Timeout.Never);
            }
        }
    }

    private static async Task<(L4Thread Thread, Gate Gate)> ServeGateAsync(CrashScenario s)
    {
        L4Thread thread = await s.Survivor.CreateThreadAsync();
        Gate gate = await s.Survivor.Factory.CreateGateAsync(thread, 21);
        await s.Survivor.Names.RegisterAsync(s.Name, gate);
        return (thread, gate);
    }

    /// <summary>A fresh caller through <paramref name="gate"/>: the server must still serve after the death.</summary>
    private static void AssertStillServed(Gate gate)
    {
        using L4Thread probe = new();
        probe.Utcb.Mr[0] = 99;
        IpcResult r = probe.Call(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(HangBoundMs));
        Assert.Equal(L4Status.Ok, r.Status);
        Assert.Equal(100UL, probe.Utcb.Mr[0]);
    }

    private static async Task<Seen> CallerIdle(CrashScenario s)
    {
        (L4Thread thread, Gate gate) = await ServeGateAsync(s);
        using L4Thread _ = thread;
        Server server = new(thread);
        Assert.Equal("READY Ok", await s.StartVictimAsync());
        long gone = await KillAndAwaitGoneAsync(s);
        AssertStillServed(gate);
        server.Stop();
        Assert.Empty(server.Failures); // an idle caller's death is no event for the server
        return await s.SeenAsync("server waits on; next call served", gone);
    }

    private static async Task<Seen> CallerBlockedInSend(CrashScenario s)
    {
        (L4Thread thread, Gate gate) = await ServeGateAsync(s);
        using L4Thread _ = thread;
        int seq = Volatile.Read(ref thread.Doorbell.Layout.Seq);
        await s.StartVictimAsync();
        Await.Until(() => Volatile.Read(ref thread.Doorbell.Layout.Seq) != seq, "the victim's request is posted (the server does not wait)");
        long gone = await KillAndAwaitGoneAsync(s);

        // The request of a sender that died before the receiver took it is gone with it: the server's wait sees nothing.
        IpcResult r = thread.Wait(L4Timeout.FromMilliseconds(300));
        Assert.True(r.Status != L4Status.Ok, $"a dead sender's untaken request was delivered: {r}");
        Server server = new(thread);
        AssertStillServed(gate);
        server.Stop();
        return await s.SeenAsync(r.Status.ToString(), gone);
    }

    private static async Task<Seen> CallerMidCall(CrashScenario s)
    {
        (L4Thread thread, Gate _) = await ServeGateAsync(s);
        using L4Thread __ = thread;
        await s.StartVictimAsync();
        IpcResult request = thread.Wait(L4Timeout.FromMilliseconds(HangBoundMs));
        Assert.Equal(L4Status.Ok, request.Status);
        ReceiveLink link = thread.ReplyLink!;
        Await.Until(() => Volatile.Read(ref link.Region.Layout.SenderWaiting) != 0, "the victim sleeps waiting for the reply");
        Kill(s);
        long seen = await PollAsync(() => Task.FromResult(link.IsSenderDeleted), HangBoundMs);
        Assert.True(seen > 0, "the server's reply link never said the caller died");
        thread.Utcb.Mr[0] = 42;
        L4Status reply = thread.Reply(request.Tag);
        return await s.SeenAsync(reply.ToString(), seen);
    }

    private static async Task<Seen> CallerMidReply(CrashScenario s)
    {
        (L4Thread thread, Gate gate) = await ServeGateAsync(s);
        using L4Thread _ = thread;
        await s.StartVictimAsync();
        IpcResult request = thread.Wait(L4Timeout.FromMilliseconds(HangBoundMs));
        Assert.Equal(L4Status.Ok, request.Status);
        ReceiveLink link = thread.ReplyLink!;
        Await.Until(() => Volatile.Read(ref link.Region.Layout.SenderWaiting) != 0, "the victim sleeps waiting for the reply");
        s.Victim!.Signal("STOP"); // the reply will be posted, never taken
        thread.Utcb.Mr[0] = 42;
        L4Status reply = thread.Reply(request.Tag);
        Kill(s);
        long seen = await PollAsync(() => Task.FromResult(link.IsSenderDeleted), HangBoundMs);
        Assert.True(seen > 0, "the link never said the caller died");
        Server server = new(thread);
        AssertStillServed(gate);
        server.Stop();
        Assert.Empty(server.Failures);
        return await s.SeenAsync(reply.ToString(), seen);
    }

    private static async Task<Seen> CallerDuringLinkSetup(CrashScenario s)
    {
        (L4Thread thread, Gate gate) = await ServeGateAsync(s);
        using L4Thread _ = thread;
        Server server = new(thread);
        long gone = await KillWithRequestInAStoppedBrokerAsync(s, "LINKING"); // its link request waits in the broker's socket
        AssertStillServed(gate);
        server.Stop();
        Assert.Empty(server.Failures);
        return await s.SeenAsync("no link left; next call served", gone);
    }

    // ── receivers ──────────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>The survivor's caller through the victim's gate, once the victim registered it.</summary>
    private static async Task<Gate> VictimGateAsync(CrashScenario s) => await s.Survivor.Names.QueryAsync<Gate>(s.Name, TimeSpan.FromSeconds(10));

    /// <summary>Sets up the caller's link on this thread (its link cache is its own: never read while another thread fills it).</summary>
    private static SendLink PreparedLink(L4Thread caller, Gate gate)
    {
        Assert.Equal(L4Status.Ok, gate.Prepare(caller));
        Assert.True(caller.TryGetCachedLink(gate, out SendLink? link));
        return link;
    }

    private static async Task<int> SendLinksAsync(CrashScenario s)
    {
        using JsonDocument status = JsonDocument.Parse(await s.Observer.GetBrokerStatusJsonAsync());
        return status.RootElement.GetProperty("tasks").EnumerateArray().Where(t => t.GetProperty("name").GetString() == "survivor").Sum(t => t.GetProperty("sendLinks").GetInt32());
    }

    private static Blocked<IpcResult> CallInBackground(L4Thread caller, Gate gate) =>
        new(() => caller.Call(gate, new MsgTag(1, 1), L4Timeout.Never));

    private static async Task<Seen> ReceiverIdle(CrashScenario s)
    {
        await s.StartVictimAsync();
        Gate gate = await VictimGateAsync(s);
        using L4Thread caller = new();
        SendLink link = PreparedLink(caller, gate);
        Blocked<IpcResult> call = CallInBackground(caller, gate);
        Await.Until(() => Volatile.Read(ref link.Region.Layout.SenderWaiting) != 0, "the caller sleeps in its send phase");
        Kill(s);
        (IpcResult r, long at) = call.Join("a caller blocked in send on a killed receiver");
        return await s.SeenAsync(r.Status.ToString(), at);
    }

    private static async Task<Seen> ReceiverInOpenWait(CrashScenario s)
    {
        await s.StartVictimAsync();
        Gate gate = await VictimGateAsync(s);
        using L4Thread caller = new();
        SendLink link = PreparedLink(caller, gate);
        Await.Until(() => Volatile.Read(ref link.Doorbell.Layout.ReceiverWaiting) == DoorbellLayout.ReceiverAsleep, "the victim sleeps in its open wait");
        Kill(s);
        (IpcResult r, long at) = CallInBackground(caller, gate).Join("a call to a receiver killed in its open wait");
        return await s.SeenAsync(r.Status.ToString(), at);
    }

    private static async Task<Seen> ReceiverMidCall(CrashScenario s)
    {
        await s.StartVictimAsync();
        Gate gate = await VictimGateAsync(s);
        using L4Thread caller = new();
        Blocked<IpcResult> call = CallInBackground(caller, gate);
        s.Victim!.WaitForLine("HOLD"); // the victim holds the request; the caller sleeps waiting for the reply
        Kill(s);
        (IpcResult r, long at) = call.Join("a caller whose server was killed holding its request");
        return await s.SeenAsync(r.Status.ToString(), at);
    }

    private static async Task<Seen> ReceiverDuringLinkSetup(CrashScenario s)
    {
        await s.StartVictimAsync();
        Gate gate = await VictimGateAsync(s);
        s.Victim!.Signal("STOP"); // it cannot take the new link the broker hands it
        using L4Thread caller = new();
        Blocked<IpcResult> call = CallInBackground(caller, gate);
        // The link is set up without the receiver's ack (the broker answers at once), so the caller soon sleeps in send.
        // Its link cache belongs to its thread: watch the broker's view of the survivor's links instead, then let it sleep.
        Assert.True(await PollAsync(async () => await SendLinksAsync(s) > 0 || call.HasReturned, HangBoundMs) > 0, "the link was never set up");
        Thread.Sleep(50);

        Kill(s);
        (IpcResult r, long at) = call.Join("a caller whose link was set up to a stopped, then killed, receiver");
        return await s.SeenAsync(r.Status.ToString(), at);
    }

    // ── IRQ, names, capabilities, dataspaces ────────────────────────────────────────────────────────────────────

    private static async Task<Seen> IrqHolderIdle(CrashScenario s)
    {
        using L4Thread receiver = await s.Survivor.CreateThreadAsync();
        Irq irq = await s.Survivor.Factory.CreateIrqAsync(receiver, 77);
        await s.Survivor.Names.RegisterAsync(s.Name, irq, CapRights.Send);
        Assert.Equal("READY 5", await s.StartVictimAsync());
        long gone = await KillAndAwaitGoneAsync(s);
        IpcResult r = receiver.Wait(L4Timeout.FromMilliseconds(HangBoundMs)); // triggered before the death: still delivered
        Assert.Equal(L4Status.Ok, r.Status);
        Assert.Equal((SystemProtocol.Irq, 77UL), (r.Tag.Protocol, r.Label));
        return await s.SeenAsync($"Ok: {receiver.Utcb.Mr[0]} triggers delivered", gone);
    }

    private static async Task<Seen> RegistrantIdle(CrashScenario s)
    {
        await s.StartVictimAsync();
        Assert.Equal(2, (await s.Survivor.Names.ListAsync()).Count(n => n.Name.StartsWith(s.Name, StringComparison.Ordinal)));
        Kill(s);
        long gone = await PollAsync(async () => !(await s.Survivor.Names.ListAsync()).Any(n => n.Name.StartsWith(s.Name, StringComparison.Ordinal)), HangBoundMs);
        Assert.True(gone > 0, "the victim's names outlived it");
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => s.Survivor.Names.QueryAsync(s.Name, TimeSpan.Zero));
        return await s.SeenAsync(e.Status.ToString(), gone);
    }

    private static async Task<Seen> NameWaiterBlocked(CrashScenario s)
    {
        await s.StartVictimAsync();
        Assert.True(await PollAsync(async () => await PendingQueriesAsync(s) == 1, HangBoundMs) > 0, "the victim's query never reached the broker");
        Kill(s);
        long released = await PollAsync(async () => await PendingQueriesAsync(s) == 0, HangBoundMs);
        Assert.True(released > 0, "the dead task's name query outlived it");
        Seen seen = await s.SeenAsync("pending query released; the name still registers", released); // before the survivor makes more

        // Registering the name now must not try to answer the dead waiter (the broker would write to a closed session).
        using L4Thread thread = await s.Survivor.CreateThreadAsync();
        Gate gate = await s.Survivor.Factory.CreateGateAsync(thread, 5);
        await s.Survivor.Names.RegisterAsync(s.Name, gate);
        Assert.Contains(await s.Survivor.Names.ListAsync(), n => n.Name == s.Name);
        await s.Survivor.Names.UnregisterAsync(s.Name);
        await gate.DeleteAsync();
        return seen;
    }

    private static async Task<int> PendingQueriesAsync(CrashScenario s)
    {
        using JsonDocument status = JsonDocument.Parse(await s.Observer.GetBrokerStatusJsonAsync());
        return status.RootElement.GetProperty("broker").GetProperty("pendingNameQueries").GetInt32();
    }

    private static async Task<Seen> CapHolderIdle(CrashScenario s)
    {
        (L4Thread thread, Gate _) = await ServeGateAsync(s);
        using L4Thread __ = thread;
        Assert.Equal("READY Ok", await s.StartVictimAsync());
        Assert.Equal(1, await GateLinksAsync(s));
        Kill(s);
        long released = await PollAsync(async () => await GateLinksAsync(s) == 0, HangBoundMs);
        Assert.True(released > 0, "the victim's link to the survivor's gate outlived it");
        return await s.SeenAsync("derived capability and link released", released);
    }

    private static async Task<int> GateLinksAsync(CrashScenario s)
    {
        using JsonDocument status = JsonDocument.Parse(await s.Survivor.GetBrokerStatusJsonAsync());
        return status.RootElement.GetProperty("gates").EnumerateArray().Sum(g => g.GetProperty("links").GetInt32());
    }

    private static async Task<Seen> CapHolderDuringItemTransfer(CrashScenario s)
    {
        using L4Thread inbox = await s.Survivor.CreateThreadAsync();
        inbox.Utcb.SetReceiveBuffers(1);
        Gate gate = await s.Survivor.Factory.CreateGateAsync(inbox, 31);
        await s.Survivor.Names.RegisterAsync(s.Name, gate);
        int seq = Volatile.Read(ref inbox.Doorbell.Layout.Seq);
        await s.StartVictimAsync();
        Await.Until(() => Volatile.Read(ref inbox.Doorbell.Layout.Seq) != seq, "the victim's message with its item is posted");
        long gone = await KillAndAwaitGoneAsync(s);

        // Offered, never accepted, and the sender gone: neither the words nor the capability may arrive.
        IpcResult r = inbox.Wait(L4Timeout.FromMilliseconds(300));
        Assert.True(r.Status != L4Status.Ok, $"a dead sender's untaken item message was delivered: {r}");
        return await s.SeenAsync(r.Status.ToString(), gone);
    }

    private static async Task<Seen> CapHolderOfferingToAStoppedBroker(CrashScenario s)
    {
        using L4Thread inbox = await s.Survivor.CreateThreadAsync();
        inbox.Utcb.SetReceiveBuffers(1);
        Gate gate = await s.Survivor.Factory.CreateGateAsync(inbox, 31);
        await s.Survivor.Names.RegisterAsync(s.Name, gate);
        long gone = await KillWithRequestInAStoppedBrokerAsync(s, "OFFERING"); // its item offer waits in the broker's socket; the broker reads it after the death
        IpcResult r = inbox.Wait(L4Timeout.FromMilliseconds(300));
        Assert.True(r.Status != L4Status.Ok, $"a dead sender's offered item message was delivered: {r}");
        return await s.SeenAsync(r.Status.ToString(), gone);
    }

    private static async Task<Seen> MapperIdle(CrashScenario s)
    {
        Dataspace dataspace = await s.Survivor.Factory.CreateDataspaceAsync(1 << 16);
        using DataspaceMapping mine = await dataspace.MapAsync(CapRights.Read);
        await s.Survivor.Names.RegisterAsync(s.Name, dataspace, CapRights.Read | CapRights.Write | CapRights.Map);
        Assert.Equal("READY Ok", await s.StartVictimAsync());
        byte[] committed = Encoding.ASCII.GetBytes("committed");
        Assert.True(mine.ReadOnlySpan[..committed.Length].SequenceEqual(committed));
        Kill(s);
        long released = await PollAsync(async () => await DataspaceMappingsAsync(s) == 1, HangBoundMs);
        Assert.True(released > 0, "the victim's mapping outlived it");
        Assert.True(mine.ReadOnlySpan[..committed.Length].SequenceEqual(committed), "what the victim wrote before its death is gone");
        Assert.Equal(L4Status.Ok, mine.Status);
        return await s.SeenAsync("committed bytes kept; mapping released", released);
    }

    private static async Task<int> DataspaceMappingsAsync(CrashScenario s)
    {
        using JsonDocument status = JsonDocument.Parse(await s.Survivor.GetBrokerStatusJsonAsync());
        return status.RootElement.GetProperty("dataspaces").EnumerateArray().Sum(d => d.GetProperty("mappings").GetInt32());
    }

    // ── FIFO channels ──────────────────────────────────────────────────────────────────────────────────────────

    private const int Capacity = 1 << 14;

    private static async Task<Channel> ChannelAsync(CrashScenario s)
    {
        Channel channel = await s.Survivor.Factory.CreateChannelAsync(Capacity);
        await s.Survivor.Names.RegisterAsync(s.Name, channel, CapRights.All); // each end needs its own rights
        return channel;
    }

    /// <summary>Reads <paramref name="count"/> records (each its index), then blocks for one more until the victim is killed.</summary>
    private static async Task<Seen> ConsumeThenKill(CrashScenario s, ChannelConsumer consumer, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.FromMilliseconds(HangBoundMs), out ReadOnlySpan<byte> record));
            Assert.Equal(i, BitConverter.ToInt32(record));
            consumer.Release();
        }

        Blocked<L4Status> read = new(() => consumer.Read(L4Timeout.Never, out _));
        Await.Until(() => Volatile.Read(ref consumer.Region.Layout.ConsumerWaiting) != 0, "the consumer sleeps on the empty ring");
        Kill(s);
        (L4Status status, long at) = read.Join("a consumer blocked on a killed producer's ring");
        Assert.False(consumer.IsCompleted);
        await Task.CompletedTask;
        return new($"{status} after {count} records", at);
    }

    private static async Task<Seen> ProducerIdle(CrashScenario s)
    {
        Channel channel = await ChannelAsync(s);
        using ChannelConsumer consumer = await channel.OpenConsumerAsync();
        Assert.Equal("READY 10", await s.StartVictimAsync());
        return await s.SeenAsync(await ConsumeThenKill(s, consumer, 10));
    }

    private static async Task<Seen> ProducerMidRecord(CrashScenario s)
    {
        Channel channel = await ChannelAsync(s);
        using ChannelConsumer consumer = await channel.OpenConsumerAsync();
        Assert.Equal("READY 10", await s.StartVictimAsync());
        return await s.SeenAsync(await ConsumeThenKill(s, consumer, 10)); // the reserved, uncommitted record is never read
    }

    private static async Task<Seen> ProducerBlockedOnFullRing(CrashScenario s)
    {
        Channel channel = await ChannelAsync(s);
        using ChannelConsumer consumer = await channel.OpenConsumerAsync();
        int committed = int.Parse((await s.StartVictimAsync())["READY ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(committed > 0);
        Await.Until(() => Volatile.Read(ref consumer.Region.Layout.ProducerWaiting) != 0, "the victim sleeps on the full ring");
        Kill(s);
        int read = 0;
        L4Status status;
        while ((status = consumer.Read(L4Timeout.FromMilliseconds(HangBoundMs), out ReadOnlySpan<byte> record)) == L4Status.Ok)
        {
            Assert.Equal(read++, BitConverter.ToInt32(record));
            consumer.Release();
        }

        long at = Stopwatch.GetTimestamp();
        Assert.Equal(committed, read); // everything committed before the death, nothing more
        return await s.SeenAsync($"{status} after {(read == committed ? "all" : read.ToString(System.Globalization.CultureInfo.InvariantCulture))} records", at);
    }

    /// <summary>Fills the ring, then blocks writing until the victim consumer is killed.</summary>
    private static Seen FillThenKill(CrashScenario s, ChannelProducer producer)
    {
        byte[] record = new byte[1000];
        while (producer.Write(record, L4Timeout.Zero) == L4Status.Ok)
        {
        }

        Blocked<L4Status> write = new(() => producer.Write(record, L4Timeout.Never));
        Await.Until(() => Volatile.Read(ref producer.Region.Layout.ProducerWaiting) != 0, "the producer sleeps on the full ring");
        Kill(s);
        (L4Status status, long at) = write.Join("a producer blocked on a killed consumer's ring");
        return new(status.ToString(), at);
    }

    private static async Task<Seen> ConsumerIdle(CrashScenario s)
    {
        Channel channel = await ChannelAsync(s);
        using ChannelProducer producer = await channel.OpenProducerAsync();
        await s.StartVictimAsync();
        return await s.SeenAsync(FillThenKill(s, producer));
    }

    private static async Task<Seen> ConsumerBlockedOnEmptyRing(CrashScenario s)
    {
        Channel channel = await ChannelAsync(s);
        using ChannelProducer producer = await channel.OpenProducerAsync();
        await s.StartVictimAsync();
        Await.Until(() => Volatile.Read(ref producer.Region.Layout.ConsumerWaiting) != 0, "the victim sleeps on the empty ring");
        Kill(s);
        byte[] record = new byte[1000];
        Blocked<L4Status> write = new(() =>
        {
            L4Status st;
            while ((st = producer.Write(record, L4Timeout.Never)) == L4Status.Ok)
            {
            }

            return st;
        });
        (L4Status status, long at) = write.Join("a producer writing to a killed consumer's ring");
        return await s.SeenAsync(status.ToString(), at);
    }

    private static async Task<Seen> ConsumerMidRecord(CrashScenario s)
    {
        Channel channel = await ChannelAsync(s);
        using ChannelProducer producer = await channel.OpenProducerAsync();
        byte[] first = new byte[1000];
        Assert.Equal(L4Status.Ok, producer.Write(first, L4Timeout.Zero));
        Assert.Equal("READY Ok 0", await s.StartVictimAsync());
        return await s.SeenAsync(FillThenKill(s, producer));
    }

    // ── the pager ──────────────────────────────────────────────────────────────────────────────────────────────

    // A thread blocked on a fault cannot be suspended by the GC, so the faulting side is a child process (page-reader),
    // as in PagerTests: a blocked fault in the test host would stall every collection until the fault ends.

    private static async Task<Seen> PagerIdle(CrashScenario s)
    {
        await s.StartVictimAsync("PAGER");
        using TempDir dir = new();
        string go = Path.Combine(dir.Path, "go");
        using ChildProcess reader = ChildProcess.Start("page-reader", s.Broker.SocketPath, s.Name, "read", "0", "1", "wait-file", go, "touch", "1");
        Assert.Equal("READ 1 0 Ok 1", reader.WaitForLine("READ")); // served while the pager lived
        reader.WaitForLine("WAITING");
        Kill(s);
        File.WriteAllText(go, "");
        return Touched(reader);
    }

    private static async Task<Seen> PagerMidFault(CrashScenario s)
    {
        await s.StartVictimAsync("PAGER");
        using ChildProcess reader = ChildProcess.Start("page-reader", s.Broker.SocketPath, s.Name, "touch", "3");
        s.Victim!.WaitForLine("FAULT"); // the reader's thread is blocked in the kernel on page 3, the pager holds the fault
        Kill(s);
        return Touched(reader);
    }

    /// <summary>The reader's <c>TOUCHED status first-byte nonzero ns</c>: the mapping's status, zeros read, when it went on.</summary>
    private static Seen Touched(ChildProcess reader)
    {
        string[] touched = reader.WaitForLine("TOUCHED", HangBoundMs).Split(' ');
        Assert.Equal(["0", "False"], touched[2..4]); // no page: zeros, never garbage or a crash
        reader.WaitForLine("DONE");
        Assert.True(reader.WaitForExit(HangBoundMs));
        Assert.Equal(0, reader.ExitCode);
        long at = long.Parse(touched[4], System.Globalization.CultureInfo.InvariantCulture) / (1_000_000_000 / Stopwatch.Frequency);
        return new(touched[1], at);
    }

    // ── the broker ─────────────────────────────────────────────────────────────────────────────────────────────

    private static async Task<Seen> BrokerIdle(CrashScenario s)
    {
        KillBroker(s);
        long lost = await PollAsync(() => Task.FromResult(s.Survivor.IsBrokerLost), HangBoundMs);
        Assert.True(lost > 0, "the task never noticed the broker's death");
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => s.Survivor.Names.ListAsync());
        return new(e.Status.ToString(), lost);
    }

    private static async Task<Seen> BrokerReceiverInOpenWait(CrashScenario s)
    {
        using L4Thread receiver = await s.Survivor.CreateThreadAsync();
        Blocked<IpcResult> wait = new(() => receiver.Wait(L4Timeout.Never));
        Await.Until(() => Volatile.Read(ref receiver.Doorbell.Layout.ReceiverWaiting) == DoorbellLayout.ReceiverAsleep, "the receiver sleeps in its open wait");
        KillBroker(s);
        (IpcResult r, long at) = wait.Join("an open wait when the broker died");
        return new(r.Status.ToString(), at);
    }

    private static async Task<Seen> BrokerCallerBlockedInSend(CrashScenario s)
    {
        using L4Thread server = await s.Survivor.CreateThreadAsync();
        Gate gate = await s.Survivor.Factory.CreateGateAsync(server, 1);
        using L4Thread caller = new();
        SendLink link = PreparedLink(caller, gate);
        Blocked<IpcResult> call = CallInBackground(caller, gate);
        Await.Until(() => Volatile.Read(ref link.Region.Layout.SenderWaiting) != 0, "the caller sleeps in its send phase");
        KillBroker(s);
        (IpcResult r, long at) = call.Join("a caller blocked in send when the broker died");
        return new(r.Status.ToString(), at);
    }

    private static async Task<Seen> BrokerMidCall(CrashScenario s)
    {
        using L4Thread server = await s.Survivor.CreateThreadAsync();
        Gate gate = await s.Survivor.Factory.CreateGateAsync(server, 1);
        using L4Thread caller = new();
        Blocked<IpcResult> call = CallInBackground(caller, gate);
        Assert.Equal(L4Status.Ok, server.Wait(L4Timeout.FromMilliseconds(HangBoundMs)).Status); // taken, never answered
        ReceiveLink link = server.ReplyLink!;
        Await.Until(() => Volatile.Read(ref link.Region.Layout.SenderWaiting) != 0, "the caller sleeps waiting for the reply");
        KillBroker(s);
        (IpcResult r, long at) = call.Join("a caller waiting for its reply when the broker died");
        return new(r.Status.ToString(), at);
    }

    private static async Task<Seen> BrokerConsumerMidRecord(CrashScenario s)
    {
        Channel channel = await s.Survivor.Factory.CreateChannelAsync(Capacity);
        using ChannelProducer producer = await channel.OpenProducerAsync();
        using ChannelConsumer consumer = await channel.OpenConsumerAsync();
        Assert.Equal(L4Status.Ok, producer.Write([7], L4Timeout.Zero));
        Assert.Equal(L4Status.Ok, producer.Reserve(100, L4Timeout.Zero, out _)); // reserved, not committed
        Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.Zero, out _));
        consumer.Release();
        Blocked<L4Status> read = new(() => consumer.Read(L4Timeout.Never, out _));
        Await.Until(() => Volatile.Read(ref consumer.Region.Layout.ConsumerWaiting) != 0, "the consumer sleeps on the empty ring");
        KillBroker(s);
        (L4Status status, long at) = read.Join("a consumer blocked on a channel when the broker died");
        return new(status.ToString(), at);
    }

    private static async Task<Seen> BrokerDuringLinkSetup(CrashScenario s)
    {
        using L4Thread server = await s.Survivor.CreateThreadAsync();
        Gate gate = await s.Survivor.Factory.CreateGateAsync(server, 1);
        using L4Thread caller = new();
        s.Broker.Stop(); // the link request is never answered
        Blocked<IpcResult> call = CallInBackground(caller, gate);
        Thread.Sleep(200); // no state to wait on inside a stopped broker: give the caller time to send its request
        KillBroker(s);
        (IpcResult r, long at) = call.Join("a caller whose link request was outstanding when the broker died");
        return new(r.Status.ToString(), at);
    }

    private static async Task<Seen> BrokerDuringItemTransfer(CrashScenario s)
    {
        using L4Thread inbox = await s.Survivor.CreateThreadAsync();
        inbox.Utcb.SetReceiveBuffers(1);
        Gate gate = await s.Survivor.Factory.CreateGateAsync(inbox, 31);
        using L4Thread other = await s.Survivor.CreateThreadAsync();
        Gate item = await s.Survivor.Factory.CreateGateAsync(other, 32);
        using L4Thread sender = new();
        Assert.Equal(L4Status.Ok, gate.Prepare(sender));
        int seq = Volatile.Read(ref inbox.Doorbell.Layout.Seq);
        MsgItem.Map(item, CapRights.Send).WriteTo(sender.Utcb.Mr);
        Blocked<IpcResult> send = new(() => sender.Send(gate, new MsgTag(0, items: 1), L4Timeout.Never));
        Await.Until(() => Volatile.Read(ref inbox.Doorbell.Layout.Seq) != seq, "the message with its item is posted (offered, not accepted)");
        KillBroker(s);
        (IpcResult r, long at) = send.Join("a sender whose item was offered when the broker died");
        return new(r.Status.ToString(), at);
    }
}

/// <summary>One row of the crash matrix as the summary records it.</summary>
public sealed record CrashOutcome(string Role, string Point, string Expected, string Seen, double? DetectionMs, bool? BaselineRestored, double? RestoreMs, string? Note);
