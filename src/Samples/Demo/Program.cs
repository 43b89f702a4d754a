using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Shared;

// L4Rt demo, end to end: the broker (l4rtd) and two more real processes.
//   dotnet run -c Release --project src/Samples/Demo
// 1. starts l4rtd on a private socket;  2. starts a server task that registers a gate ("demo/echo") and serves;
// 3. this process joins as a client task: finds the gate by name, calls it, times round trips, shows reply-capability
// and timeout semantics, triggers the server's IRQ, streams through a zero-copy channel, and finally kills the server
// to show peer-death detection. Everything it started is stopped at the end (and dies with it if it is killed).

namespace L4Rt.Samples.Demo;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "--server")
        {
            ProcessLifetime.ExitWhenParentExits();
            return Server(args[1]);
        }

        if (!TryParse(args, out int seconds, out bool json, out string? error))
        {
            Console.Error.WriteLine(error);
            Console.Error.WriteLine("usage: L4Rt.Samples.Demo [--seconds N (live part, default 8)] [--json (the summary as JSON on stdout)]");
            return error is null ? 0 : 2;
        }

        // Ctrl-C (SIGINT) or SIGTERM ends the run, not the process: everything started is stopped in the finally blocks.
        using CancellationTokenSource interrupted = new();
        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;
            interrupted.Cancel();
        }

        using PosixSignalRegistration onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using PosixSignalRegistration onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        TextWriter stdout = Console.Out;
        if (json)
        {
            Console.SetOut(Console.Error); // the tour's lines; stdout gets only the JSON
        }

        string dir = Directory.CreateTempSubdirectory("l4rt-demo-").FullName;
        string socket = Path.Combine(dir, "broker.sock");
        ManagedProcess? broker = null, server = null;
        try
        {
            broker = StartBroker(socket);
            Console.WriteLine($"l4rtd:  broker pid {broker.Pid} listening on {socket}");
            server = StartSelf("--server", socket);
            int code = Client(socket, server, seconds, json, stdout, interrupted.Token).GetAwaiter().GetResult();
            return interrupted.IsCancellationRequested ? 130 : code;
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            Console.Error.WriteLine("demo: interrupted; stopping everything it started");
            return 130;
        }
        finally
        {
            server?.Dispose(); // kills it (and anything it started) if it still runs
            broker?.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool TryParse(string[] args, out int seconds, out bool json, out string? error)
    {
        seconds = 8;
        json = false;
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int s) && s is >= 1 and <= 3600:
                    seconds = s;
                    i++;
                    break;
                case "--seconds":
                    error = "demo: --seconds takes a whole number of seconds, 1..3600";
                    return false;
                case "--json":
                    json = true;
                    break;
                case "--help" or "-h":
                    return false;
                default:
                    error = $"demo: unknown argument '{args[i]}'";
                    return false;
            }
        }

        return true;
    }

    private static ManagedProcess StartBroker(string socket)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string dll = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "Broker", "bin", configuration, "net10.0", "l4rtd.dll"));
        ManagedProcess broker = ManagedProcess.Start(
            "dotnet",
            [dll, "--SocketPath", socket, "--ParentPid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string>
            {
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__L4Rt.Broker.BrokerService"] = "Information",
            });
        return WaitedFor(broker, l => l.Contains("listening on", StringComparison.Ordinal), $"'listening on' ({dll})");
    }

    private static ManagedProcess StartSelf(params string[] args)
    {
        string self = Environment.ProcessPath!;
        ProcessStartInfo info = new(self) { RedirectStandardOutput = true }; // its stderr goes to ours
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(Program).Assembly.Location);
        }

        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return WaitedFor(ManagedProcess.Start(info), l => l == "READY", "READY");
    }

    /// <summary>The process once it printed the line <paramref name="what"/> describes; killed if it does not within 30 s.</summary>
    private static ManagedProcess WaitedFor(ManagedProcess process, Func<string, bool> match, string what)
    {
        try
        {
            process.WaitForLine(match, what, TimeSpan.FromSeconds(30));
            return process;
        }
        catch (TimeoutException)
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The server task: a receiving thread with a gate (label 7) registered as "demo/echo" and an IRQ ("demo/tick",
    /// label 9); on request it streams into the channel "demo/stream" the client created.
    /// </summary>
    private static int Server(string socket)
    {
        using L4Task task = L4Task.ConnectAsync(new L4TaskOptions { SocketPath = socket, Name = "demo-server" }).GetAwaiter().GetResult();
        using L4Thread thread = task.CreateThread();
        Gate gate = task.Factory.CreateGateAsync(thread, label: 7).GetAwaiter().GetResult();
        Irq tick = task.Factory.CreateIrqAsync(thread, label: 9).GetAwaiter().GetResult();
        task.Names.RegisterAsync("demo/echo", gate).GetAwaiter().GetResult();
        task.Names.RegisterAsync("demo/tick", tick, CapRights.Send).GetAwaiter().GetResult();
        Console.WriteLine("READY");
        Console.Out.Flush();
        long ticks = 0;
        IpcResult msg = thread.Wait(L4Timeout.Never);
        while (true)
        {
            if (!msg.IsOk)
            {
                msg = thread.Wait(L4Timeout.Never);
                continue;
            }

            if (msg.Tag.Protocol == SystemProtocol.Irq)
            {
                ticks += (long)thread.Utcb.Mr[0]; // coalesced triggers arrive as one count
                msg = thread.Wait(L4Timeout.Never);
                continue;
            }

            switch (msg.Tag.Protocol)
            {
                case 2: // start the next wait without replying: the caller's reply capability is dropped
                    msg = thread.Wait(L4Timeout.Never);
                    continue;
                case 3: // reply too late: the caller's receive timeout has passed, so the reply is refused
                    Thread.Sleep(200);
                    msg = thread.ReplyAndWait(new MsgTag(1), L4Timeout.Never);
                    continue;
                case 4: // hold the call forever (until this process is killed)
                    Thread.Sleep(Timeout.Infinite);
                    break;
                case 5: // report the IRQ count
                    thread.Utcb.Mr[0] = (ulong)ticks;
                    msg = thread.ReplyAndWait(new MsgTag(5, words: 1), L4Timeout.Never);
                    continue;
                case 6: // stream MR0 MiB into the client's channel, then reply
                    thread.Utcb.Mr[0] = (ulong)Stream(task, (int)thread.Utcb.Mr[0]);
                    msg = thread.ReplyAndWait(new MsgTag(6, words: 1), L4Timeout.Never);
                    continue;
            }

            // Protocol 1: sum the words and reply with [sum, label seen, our pid].
            ulong sum = 0;
            for (int i = 0; i < msg.Tag.Words; i++)
            {
                sum += thread.Utcb.Mr[i];
            }

            thread.Utcb.Mr[0] = sum;
            thread.Utcb.Mr[1] = msg.Label;
            thread.Utcb.Mr[2] = (ulong)Environment.ProcessId;
            msg = thread.ReplyAndWait(new MsgTag(1, words: 3), L4Timeout.Never);
        }
    }

    private static long Stream(L4Task task, int mebibytes)
    {
        Channel channel = task.Names.QueryAsync<Channel>("demo/stream", TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
        using ChannelProducer producer = channel.OpenProducerAsync().GetAwaiter().GetResult();
        long records = 0;
        for (long sent = 0; sent < (long)mebibytes << 20; sent += 64 * 1024)
        {
            producer.Reserve(64 * 1024, L4Timeout.Never, out Span<byte> record);
            record.Fill((byte)records++);   // the whole frame, written in place
            producer.Commit(64 * 1024);
        }

        producer.Complete(L4Timeout.Never);
        return records;
    }

    private static async Task<int> Client(string socket, ManagedProcess server, int seconds, bool json, TextWriter stdout, CancellationToken ct)
    {
        await using L4Task task = await L4Task.ConnectAsync(new L4TaskOptions { SocketPath = socket, Name = "demo-client" });
        Console.WriteLine($"tasks:  client pid {Environment.ProcessId} (task {task.Id}), server pid {server.Pid}");
        Gate echo = await task.Names.QueryAsync<Gate>("demo/echo", TimeSpan.FromSeconds(10));
        Console.WriteLine($"names:  {string.Join(", ", (await task.Names.ListAsync()).Select(n => $"{n.Name} ({n.Kind}, {n.Rights})"))}");
        using L4Thread me = new();

        // 1. One call through the gate (the first one sets up the link through the broker).
        for (int i = 0; i < 8; i++)
        {
            me.Utcb.Mr[i] = (ulong)(i + 1);
        }

        Stopwatch clock = Stopwatch.StartNew();
        IpcResult r = me.Call(echo, new MsgTag(1, words: 8), L4Timeout.FromMilliseconds(5000));
        Console.WriteLine($"call:   sent 1..8 → {r.Status}: sum={me.Utcb.Mr[0]}, label the server saw={me.Utcb.Mr[1]} (the caller never sees it), server pid={me.Utcb.Mr[2]}; {clock.Elapsed.TotalMicroseconds:0} µs incl. link setup");
        if (!r.IsOk || me.Utcb.Mr[0] != 36)
        {
            return 1;
        }

        // 2. Round trips, straight through shared memory (no broker on the path).
        const int Calls = 50_000;
        double[] rtt = new double[Calls];
        for (int i = -1000; i < Calls; i++)
        {
            long start = Stopwatch.GetTimestamp();
            me.Call(echo, new MsgTag(1, words: 8), L4Timeout.FromMilliseconds(1000));
            if (i >= 0)
            {
                rtt[i] = Stopwatch.GetElapsedTime(start).TotalNanoseconds;
            }
        }

        Array.Sort(rtt);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rtt:    {Calls} calls of 8 words: median {rtt[Calls / 2] / 1000:0.00} µs, p99 {rtt[(int)(Calls * 0.99)] / 1000:0.00} µs"));

        // 3. The server starts its next wait without replying: the caller learns at once.
        clock.Restart();
        r = me.Call(echo, new MsgTag(2, words: 1), L4Timeout.Never);
        Console.WriteLine($"drop:   server waited again without replying → {r.Status} after {clock.Elapsed.TotalMilliseconds:0.0} ms");

        // 4. A receive timeout; the late reply is refused, never mixed up with the next call.
        clock.Restart();
        r = me.Call(echo, new MsgTag(3, words: 1), L4Timeout.Never, L4Timeout.FromMilliseconds(50));
        Console.WriteLine($"late:   reply slower than a 50 ms receive timeout → {r.Status} after {clock.Elapsed.TotalMilliseconds:0} ms");
        Thread.Sleep(250);

        // 5. IRQ: 1,000 triggers while the server is busy coalesce.
        Irq tick = await task.Names.QueryAsync<Irq>("demo/tick", TimeSpan.FromSeconds(5));
        for (int i = 0; i < 1000; i++)
        {
            tick.Trigger();
        }

        Thread.Sleep(50);
        r = me.Call(echo, new MsgTag(5, words: 0), L4Timeout.FromMilliseconds(1000));
        Console.WriteLine($"irq:    1000 triggers from this process → the server counted {me.Utcb.Mr[0]} (coalesced deliveries, label 9)");

        // 6. A zero-copy channel: the client creates it (charged to its quota), the server produces into it.
        Channel channel = await task.Factory.CreateChannelAsync(1 << 20);
        await task.Names.RegisterAsync("demo/stream", channel, CapRights.Write);
        using (ChannelConsumer consumer = await channel.OpenConsumerAsync())
        {
            me.Utcb.Mr[0] = 1024; // MiB
            Task<IpcResult> asking = Task.Run(() => { using L4Thread asker = new(); asker.Utcb.Mr[0] = 1024; return asker.Call(echo, new MsgTag(6, words: 1), L4Timeout.FromMilliseconds(60_000)); });
            long bytes = 0;
            long first = 0;
            ulong sum = 0;
            while (consumer.Read(L4Timeout.FromMilliseconds(30_000), out ReadOnlySpan<byte> frame) == L4Status.Ok)
            {
                first = first == 0 ? Stopwatch.GetTimestamp() : first;
                foreach (ulong word in System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(frame))
                {
                    sum += word; // every word of the frame, read in place
                }

                bytes += frame.Length;
                consumer.Release();
            }

            GC.KeepAlive(sum);

            double streamSeconds = Stopwatch.GetElapsedTime(first).TotalSeconds;
            await asking;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stream: {bytes >> 20} MiB of 64 KiB frames through a 1 MiB zero-copy channel (written and read in place): {bytes / streamSeconds / 1e9:0.00} GB/s, {consumer.WakeupsIssued} wake calls by the consumer"));
        }

        FactoryUsage usage = await task.Factory.GetUsageAsync();
        Console.WriteLine($"quota:  this task uses {usage.UsedBytes} of {usage.QuotaBytes} bytes, {usage.UsedObjects} of {usage.QuotaObjects} objects");

        // 7. Peer death: kill the server while a call is outstanding.
        long killedAt = 0;
        Thread killer = new(() =>
        {
            Thread.Sleep(100);
            killedAt = server.Kill();
        });
        killer.Start();
        r = me.Call(echo, new MsgTag(4, words: 1), L4Timeout.Never);
        long returnedAt = Stopwatch.GetTimestamp();
        killer.Join();
        Console.WriteLine($"death:  server killed (SIGKILL) during a call without timeout → {r.Status}, {Stopwatch.GetElapsedTime(killedAt, returnedAt).TotalMilliseconds:0.0} ms after the kill");
        await Task.Delay(100);
        Console.WriteLine($"names:  after the server's death: {string.Join(", ", (await task.Names.ListAsync()).Select(n => n.Name))}");
        if (r.Status != L4Status.DestinationDeleted)
        {
            return 1;
        }

        // 8. Live: the Echo and MediaStream samples as their own processes, watched each second.
        Console.WriteLine($"live:   Echo (a hosted service) and MediaStream (source → filter → sink, 1280×720) for {seconds} s …");
        LivePhase.Summary live = await new LivePhase(socket, task, seconds, quiet: json).RunAsync(ct);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"summary: echo {live.EchoCalls:N0} calls ({live.EchoCallsPerSecond:N0}/s), RTT p50 {live.RttP50Us:0.00} µs, p99 {live.RttP99Us:0.00} µs; media {live.Frames} frames, {live.Fps:0} fps, {live.Gbps:0.00} GB/s, frame latency p50 {live.FrameLatencyP50Ms:0.00} ms, p99 {live.FrameLatencyP99Ms:0.00} ms; {live.Wakeups:N0} futex wake-ups here"));
        if (json)
        {
            stdout.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
            {
                callRttMedianUs = Math.Round(rtt[Calls / 2] / 1000, 3),
                callRttP99Us = Math.Round(rtt[(int)(Calls * 0.99)] / 1000, 3),
                deathDetectedMs = Math.Round(Stopwatch.GetElapsedTime(killedAt, returnedAt).TotalMilliseconds, 2),
                live,
            }));
        }

        return live.EchoCalls > 0 && live.Frames > 0 ? 0 : 1;
    }
}
