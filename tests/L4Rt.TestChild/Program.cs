using System.Diagnostics;
using System.Globalization;
using L4Rt.Ipc;
using L4Rt.Memory;

// The one child-process helper of the cross-process tests. Each mode plays one partner role and reports on
// stdout, one line per event, so the test (the parent) can assert on what this process saw.
// It exits when its parent dies (checked by the parent killing it; see ChildProcess in the tests).

namespace L4Rt.TestChild;

internal static partial class Program
{
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(20);

    private static int Main(string[] args)
    {
        ProcessLifetime.ExitWhenParentExits(); // a crashed test host must not leave helpers behind
        try
        {
            return args[0] switch
            {
                "echo-server" => EchoServer(args[1], Int(args[2]), args.Length > 3 ? args[3] : "echo", args.Length > 4 ? Int(args[4]) : 0),
                "sender" => Sender(args[1], Int(args[2]), Int(args[3]), Int(args[4])),
                "caller" => Caller(args[1], Int(args[2])),
                "async-alloc" => AsyncAllocations(args[1], Int(args[2])),
                "multi-sender" => MultiSender(args[1], Int(args[2]), Int(args[3])),
                "call-block" => CallBlock(args[1]),
                "idle-sender" => IdleSender(args[1]),
                "receiver-script" => ReceiverScript(args[1], args[2]),
                "listen-hang" => ListenHang(args[1], args[2]),
                "hostile-sender" => HostileSender(args[1], Int(args[2]), Int(args[3]), args[4]),
                "hostile-receiver" => HostileReceiver(args[1], Int(args[2]), Int(args[3])),
                _ => RunTaskMode(args) ?? RunChannelMode(args) ?? RunDataspaceMode(args) ?? RunItemsMode(args) ?? RunHostileMode(args) ?? RunBridgeMode(args) ?? RunPagingMode(args) ?? RunContractMode(args) ?? RunCrashMode(args) ?? throw new ArgumentException($"unknown mode {args[0]}"),
            };
        }
        catch (Exception e)
        {
            Console.WriteLine($"ERROR {e.GetType().Name}: {e.Message}");
            return 2;
        }
    }

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    private static void Say(string line)
    {
        Console.WriteLine(line);
        Console.Out.Flush();
    }

    private static long NowNs() => Stopwatch.GetTimestamp() * (1_000_000_000 / Stopwatch.Frequency);

    /// <summary>Accepts <paramref name="links"/> links (labels 100+i) and serves calls forever.</summary>
    /// <summary>
    /// Connects to the echo server at <paramref name="path"/> and makes <paramref name="calls"/> asynchronous calls (no
    /// spin: each one goes through the futex reactor) after a warm-up; prints <c>ALLOC bytes-per-call failed</c>, counted
    /// over every thread of this process (nothing else runs here).
    /// </summary>
    private static int AsyncAllocations(string path, int calls)
    {
        using SendLink link = DirectLink.Connect(path, s_connectTimeout);
        using L4Thread me = new() { SpinNanoseconds = 0 };
        MsgTag tag = new(1, 4);
        int failed = 0;
        Task Run(int count) => Task.Run(async () =>
        {
            for (int i = 0; i < count; i++)
            {
                failed += (await me.CallAsync(link, tag, L4Timeout.FromMilliseconds(10_000)).ConfigureAwait(false)).IsOk ? 0 : 1;
            }
        });

        Run(1000).GetAwaiter().GetResult();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        Run(calls).GetAwaiter().GetResult();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Say(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ALLOC {allocated / (double)calls:0.00} {failed}"));
        return 0;
    }

    private static int EchoServer(string path, int links, string behaviour, int replyDelayUs)
    {
        using L4Thread server = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(path);
        Say("READY");
        List<ReceiveLink> accepted = [];
        for (int i = 0; i < links; i++)
        {
            accepted.Add(listener.Accept(server, (ulong)(100 + i), s_connectTimeout));
        }

        Say("LINKED");
        IpcResult msg = server.Wait(L4Timeout.Never);
        while (true)
        {
            if (!msg.IsOk)
            {
                Say($"WAIT {msg.Status}");
                msg = server.Wait(L4Timeout.Never);
                continue;
            }

            switch (behaviour)
            {
                case "drop":
                    // Start the next wait without replying: the caller's reply capability is dropped.
                    Say($"DROP {msg.Tag.Words}");
                    msg = server.Wait(L4Timeout.Never);
                    continue;
                case "hold":
                    AwaitCallerAsleep(accepted[(int)(msg.Label - 100)]);
                    Say("HOLD");
                    Thread.Sleep(Timeout.Infinite);
                    break;
                case "timeout":
                    // Tell the caller what the link said of it: its receive timeout, and whether a reply capability is held.
                    server.Utcb.Mr[0] = (ulong)server.CallerReceiveTimeout.Nanoseconds;
                    server.Utcb.Mr[1] = server.HasReplyCapability ? 1UL : 0UL;
                    msg = server.ReplyAndWait(new MsgTag(msg.Tag.Protocol, 2), L4Timeout.Never);
                    continue;
                case "evil":
                    Say("EVIL");
                    ForgeReply(accepted[(int)(msg.Label - 100)]);
                    msg = server.Wait(L4Timeout.Never);
                    continue;
            }

            Span<ulong> mr = server.Utcb.Mr;
            ulong first = mr[0];
            for (int i = 0; i < msg.Tag.Words; i++)
            {
                mr[i]++;
            }

            if (replyDelayUs > 0)
            {
                long until = Stopwatch.GetTimestamp() + (replyDelayUs * Stopwatch.Frequency / 1_000_000);
                while (Stopwatch.GetTimestamp() < until)
                {
                    Thread.Sleep(0);
                }
            }

            if (behaviour == "report")
            {
                L4Status status = server.Reply(msg.Tag);
                Say($"REPLY {first} {status}");
                msg = server.Wait(L4Timeout.Never);
            }
            else
            {
                msg = server.ReplyAndWait(msg.Tag, L4Timeout.Never);
            }
        }
    }

    /// <summary>
    /// Returns once the caller whose call we hold sleeps in its receive phase (it set SenderWaiting before its
    /// futex wait), so a test that kills us exercises the wake-up of a sleeper, not an early check.
    /// </summary>
    private static void AwaitCallerAsleep(ReceiveLink link)
    {
        long until = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
        while (Volatile.Read(ref link.Region.Layout.SenderWaiting) == 0 && Stopwatch.GetTimestamp() < until)
        {
            Thread.Yield();
        }
    }

    /// <summary>A hostile receiver: publishes a reply with an out-of-range tag directly in shared memory.</summary>
    private static void ForgeReply(ReceiveLink link)
    {
        ref LinkLayout l = ref link.Region.Layout;
        int state = Volatile.Read(ref l.State);
        l.ReplyTag = 0xFFFF_FFFF_0000_00FFUL; // 255 words
        Volatile.Write(ref l.State, (state & ~0xF) | 7); // Replied, bypassing the protocol
        Interlocked.Increment(ref l.SenderWake);
        Futexes.Wake(ref l.SenderWake);
    }

    /// <summary>Sends <paramref name="count"/> messages [id, i] and reports failures.</summary>
    private static int Sender(string path, int count, int id, int startDelayMs)
    {
        using SendLink link = DirectLink.Connect(path, s_connectTimeout);
        using L4Thread me = new();
        Say("CONNECTED");
        if (startDelayMs > 0)
        {
            Thread.Sleep(startDelayMs);
        }

        int failures = 0;
        for (int i = 0; i < count; i++)
        {
            me.Utcb.Mr[0] = (ulong)id;
            me.Utcb.Mr[1] = (ulong)i;
            IpcResult r = me.Send(link, new MsgTag(1, words: 2), L4Timeout.Never);
            if (!r.IsOk)
            {
                failures++;
                Say($"FAIL {i} {r.Status}");
            }
        }

        Say($"DONE {failures}");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>Opens <paramref name="links"/> links and sends <paramref name="rounds"/> rounds, one message [link, round] per link each.</summary>
    private static int MultiSender(string path, int links, int rounds)
    {
        List<SendLink> opened = [];
        for (int i = 0; i < links; i++)
        {
            opened.Add(DirectLink.Connect(path, s_connectTimeout));
        }

        Say("CONNECTED");
        using L4Thread me = new();
        int failures = 0;
        for (int round = 0; round < rounds; round++)
        {
            for (int i = 0; i < links; i++)
            {
                me.Utcb.Mr[0] = (ulong)i;
                me.Utcb.Mr[1] = (ulong)round;
                failures += me.Send(opened[i], new MsgTag(1, words: 2), L4Timeout.Never).IsOk ? 0 : 1;
            }
        }

        Say($"DONE {failures}");
        foreach (SendLink link in opened)
        {
            link.Dispose();
        }

        return 0;
    }

    private static int Caller(string path, int count)
    {
        using SendLink link = DirectLink.Connect(path, s_connectTimeout);
        using L4Thread me = new();
        int bad = 0;
        for (int i = 0; i < count; i++)
        {
            me.Utcb.Mr[0] = (ulong)i;
            IpcResult r = me.Call(link, new MsgTag(2, words: 1), L4Timeout.Never);
            if (!r.IsOk || me.Utcb.Mr[0] != (ulong)i + 1)
            {
                bad++;
            }
        }

        Say($"DONE {count - bad} {bad}");
        return bad == 0 ? 0 : 1;
    }

    /// <summary>One call with no timeout; prints its status and the monotonic time it returned.</summary>
    private static int CallBlock(string path)
    {
        using SendLink link = DirectLink.Connect(path, s_connectTimeout);
        using L4Thread me = new();
        Say("CALLING");
        IpcResult r = me.Call(link, new MsgTag(3, words: 1), L4Timeout.Never);
        Say($"CALL {r.Status} {NowNs()}");
        return 0;
    }

    private static int IdleSender(string path)
    {
        using SendLink link = DirectLink.Connect(path, s_connectTimeout);
        Say("CONNECTED");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>
    /// A receiver driven by a script of comma-separated steps: sleep:MS, wait:T (T = 0, n for never, or MS).
    /// Prints "READY", then one line per wait: "WAIT status label mr0".
    /// </summary>
    /// <summary>Listens on <paramref name="path"/> (a direct <c>link</c> or <c>channel</c> listener) and hangs until killed.</summary>
    private static int ListenHang(string kind, string path)
    {
        using IDisposable listener = kind == "link" ? DirectLinkListener.Listen(path) : Channels.DirectChannelListener.Listen(path);
        Say("READY");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    private static int ReceiverScript(string path, string script)
    {
        using L4Thread me = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(path);
        Say("READY");
        using ReceiveLink link = listener.Accept(me, 7, s_connectTimeout);
        Say("LINKED");
        foreach (string step in script.Split(','))
        {
            string[] parts = step.Split(':');
            switch (parts[0])
            {
                case "sleep":
                    Thread.Sleep(Int(parts[1]));
                    break;
                case "wait":
                    L4Timeout t = parts[1] switch { "n" => L4Timeout.Never, "0" => L4Timeout.Zero, var ms => L4Timeout.FromMilliseconds(Int(ms)) };
                    Say("WAITING");
                    IpcResult r = me.Wait(t);
                    Say($"WAIT {r.Status} {r.Label} {(r.IsOk ? me.Utcb.Mr[0] : 0)}");
                    break;
            }
        }

        Say("END");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>
    /// A hostile sender: for <paramref name="millis"/> ms scribbles random values over the receiver's doorbell
    /// ("doorbell") or over its own link's state and slot, posting malformed messages ("slot").
    /// </summary>
    private static int HostileSender(string path, int millis, int seed, string mode)
    {
        using SendLink link = DirectLink.Connect(path, s_connectTimeout);
        Say("CONNECTED");
        Random random = new(seed);
        ref LinkLayout l = ref link.Region.Layout;
        ref DoorbellLayout d = ref link.Doorbell.Layout;
        long end = Stopwatch.GetTimestamp() + (millis * Stopwatch.Frequency / 1000);
        long writes = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            for (int k = 0; k < 64; k++, writes++)
            {
                if (mode == "doorbell")
                {
                    switch (random.Next(5))
                    {
                        case 0: d.Hints[random.Next(DoorbellLayout.HintWords)] = (ulong)random.NextInt64(); break;
                        case 1: d.Summary = random.Next(2) == 0 ? 0 : (ulong)random.NextInt64(); break;
                        case 2: Interlocked.Add(ref d.Seq, random.Next(-5, 50)); Futexes.Wake(ref d.Seq); break;
                        case 3: d.Hints[random.Next(DoorbellLayout.HintWords)] = 0; break;
                        default: d.ReceiverWaiting = random.Next(-3, 4); break;
                    }
                }
                else
                {
                    switch (random.Next(4))
                    {
                        case 0: l.RequestTag = (ulong)random.NextInt64() | (random.Next(2) == 0 ? 0 : 0x7FUL); break;
                        case 1: Volatile.Write(ref l.State, random.Next()); break;
                        case 2: Volatile.Write(ref l.State, (random.Next(1 << 20) << 4) | (1 + random.Next(2))); break;
                        default: // a word of either place a request's words live (the control line, the MR lines)
                            if (random.Next(2) == 0)
                            {
                                l.RequestInline[random.Next(ShortWords.Count)] = (ulong)random.NextInt64();
                            }
                            else
                            {
                                l.RequestMr[random.Next(MessageWords.Count)] = (ulong)random.NextInt64();
                            }

                            break;
                    }

                    int hint = link.HintIndex;
                    if (hint >= 0)
                    {
                        Interlocked.Or(ref d.Hints[hint >> 6], 1UL << hint);
                        Interlocked.Or(ref d.Summary, 1UL << (hint >> 6));
                    }

                    Interlocked.Increment(ref d.Seq);
                    Futexes.Wake(ref d.Seq);
                }
            }

            Thread.Yield();
        }

        Say($"DONE {writes}");
        return 0;
    }

    /// <summary>
    /// The receiving side turned hostile: accepts one direct link at <paramref name="path"/> and, for
    /// <paramref name="millis"/> ms, writes adversarial values into it — random state words, valid-looking states with the
    /// caller's own seq (a reply, a drop, a refusal) and then flips them at once, random reply tags and words, spurious
    /// wake-ups — never waiting or replying as an honest server would. Prints <c>DONE writes</c>.
    /// </summary>
    private static int HostileReceiver(string path, int millis, int seed)
    {
        using L4Thread thread = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(path);
        Say("LISTENING");
        using ReceiveLink link = listener.Accept(thread, 1, s_connectTimeout);
        Random random = new(seed);
        ref LinkLayout l = ref link.Region.Layout;
        int[] codes = [LinkState.Idle, LinkState.Taken, LinkState.AwaitingReply, LinkState.Replied, LinkState.ReplyDropped, LinkState.Rejected, LinkState.ItemsRefused, 3, 6, 11, 15];
        long end = Stopwatch.GetTimestamp() + (millis * Stopwatch.Frequency / 1000);
        long writes = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            for (int k = 0; k < 64; k++, writes++)
            {
                int seen = Volatile.Read(ref l.State);
                switch (random.Next(8))
                {
                    case 0: Volatile.Write(ref l.State, random.Next()); break;
                    case 1: Volatile.Write(ref l.State, LinkState.Make(LinkState.Seq(seen), codes[random.Next(codes.Length)])); break; // valid-looking, the caller's seq
                    case 2: // a reply, then a flip between the caller's check and its use
                        l.ReplyTag = (ulong)random.NextInt64();
                        Volatile.Write(ref l.State, LinkState.Make(LinkState.Seq(seen), LinkState.Replied));
                        l.ReplyTag = random.Next(2) == 0 ? 0x7F7F : (ulong)random.NextInt64();
                        Volatile.Write(ref l.State, LinkState.Make(LinkState.Seq(seen) + 1, random.Next(16)));
                        break;
                    case 3: l.ReplyTag = random.Next(3) switch { 0 => (ulong)random.NextInt64(), 1 => 0x7F, _ => (ulong)(uint)random.Next(64) | ((ulong)(uint)random.Next(32) << 8) }; break;
                    case 4 when random.Next(2) == 0: l.ReplyInline[random.Next(ShortWords.Count)] = (ulong)random.NextInt64(); break;
                    case 4: l.ReplyMr[random.Next(MessageWords.Count)] = (ulong)random.NextInt64(); break;
                    case 5: l.CallReceiveTimeout = random.NextInt64(); break;
                    case 6 when random.Next(2) == 0: // the reply line's notice: made up, or valid-looking for the caller's seq
                        Volatile.Write(ref l.ReplyState, random.Next(2) == 0 ? random.Next() : LinkState.Make(LinkState.Seq(seen), codes[random.Next(codes.Length)]));
                        break;
                    default: Interlocked.Increment(ref l.SenderWake); Futexes.Wake(ref l.SenderWake); break; // a wake-up with nothing behind it
                }
            }

            Thread.Yield();
        }

        Say($"DONE {writes}");
        return 0;
    }
}
