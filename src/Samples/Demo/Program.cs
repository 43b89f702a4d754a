using System.Diagnostics;
using System.Globalization;
using L4Rt.Ipc;

// L4Rt demo: two real processes exchanging L4-style IPC over shared memory.
//   dotnet run -c Release --project src/Samples/Demo
// The demo starts a second copy of itself as the server process, links to it, and shows call, reply,
// open wait with labels, timeouts and peer death, with numbers. The broker-based demo grows from this
// once l4rtd hands out gates (see README).

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

        string socket = Path.Combine(Path.GetTempPath(), $"l4rt-demo-{Environment.ProcessId}.sock");
        using Process server = StartServer(socket);
        try
        {
            return Client(socket, server);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                server.WaitForExit(5000);
            }
        }
    }

    private static Process StartServer(string socket)
    {
        string self = Environment.ProcessPath!;
        ProcessStartInfo info = new(self) { UseShellExecute = false, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(Program).Assembly.Location);
        }

        info.ArgumentList.Add("--server");
        info.ArgumentList.Add(socket);
        Process process = Process.Start(info)!;
        if (process.StandardOutput.ReadLine() != "READY")
        {
            throw new InvalidOperationException("the server process did not start");
        }

        return process;
    }

    /// <summary>The server process: one receiving thread serving calls on its links (label 7) until killed.</summary>
    private static int Server(string socket)
    {
        using L4Thread thread = new();
        using DirectLinkListener listener = DirectLinkListener.Listen(socket);
        Console.WriteLine("READY");
        Console.Out.Flush();
        using ReceiveLink link = listener.Accept(thread, label: 7, TimeSpan.FromSeconds(30));
        IpcResult msg = thread.Wait(L4Timeout.Never);
        while (true)
        {
            if (!msg.IsOk)
            {
                msg = thread.Wait(L4Timeout.Never);
                continue;
            }

            switch (msg.Tag.Protocol)
            {
                case 2:
                    // Start the next wait without replying: the caller's reply capability is dropped.
                    msg = thread.Wait(L4Timeout.Never);
                    continue;
                case 3:
                    // Reply too late: the caller's receive timeout has passed, so the reply is refused.
                    Thread.Sleep(200);
                    msg = thread.ReplyAndWait(new MsgTag(1), L4Timeout.Never);
                    continue;
                case 4:
                    // Hold the call forever (until this process is killed).
                    Thread.Sleep(Timeout.Infinite);
                    break;
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

    private static int Client(string socket, Process server)
    {
        Console.WriteLine($"L4Rt demo: client pid {Environment.ProcessId}, server pid {server.Id}");
        using SendLink link = DirectLink.Connect(socket, TimeSpan.FromSeconds(30));
        using L4Thread me = new();

        // 1. One call: 8 words out, the server's reply words back in our UTCB.
        for (int i = 0; i < 8; i++)
        {
            me.Utcb.Mr[i] = (ulong)(i + 1);
        }

        IpcResult r = me.Call(link, new MsgTag(1, words: 8), L4Timeout.FromMilliseconds(1000));
        Console.WriteLine($"call:   sent 1..8, reply {r.Status}: sum={me.Utcb.Mr[0]}, label the server saw={me.Utcb.Mr[1]}, server pid={me.Utcb.Mr[2]}");
        if (!r.IsOk || me.Utcb.Mr[0] != 36)
        {
            Console.WriteLine("unexpected reply");
            return 1;
        }

        // 2. Round-trip times over many calls (the server waits adaptively: a short spin, then a futex sleep).
        foreach ((string name, long spin) in new[] { ("adaptive", L4Thread.DefaultSpinNanoseconds), ("futex-only caller", 0L) })
        {
            me.SpinNanoseconds = spin;
            int calls = spin == 0 ? 5_000 : 50_000;
            double[] rtt = new double[calls];
            for (int i = 0; i < calls + 1000; i++)
            {
                long start = Stopwatch.GetTimestamp();
                me.Call(link, new MsgTag(1, words: 8), L4Timeout.FromMilliseconds(1000));
                if (i >= 1000)
                {
                    rtt[i - 1000] = Stopwatch.GetElapsedTime(start).TotalNanoseconds;
                }
            }

            Array.Sort(rtt);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rtt:    {calls} calls of 8 words, {name,-17}: median {rtt[calls / 2] / 1000:0.00} µs, p99 {rtt[(int)(calls * 0.99)] / 1000:0.00} µs"));
        }

        me.SpinNanoseconds = L4Thread.DefaultSpinNanoseconds;

        // 3. The server starts its next wait without replying: the implicit reply capability is dropped,
        //    and the caller learns at once instead of hanging.
        Stopwatch clock = Stopwatch.StartNew();
        r = me.Call(link, new MsgTag(2, words: 1), L4Timeout.Never);
        Console.WriteLine($"drop:   server waited again without replying → {r.Status} after {clock.Elapsed.TotalMilliseconds:0.0} ms");

        // 4. A receive timeout: the server replies after 200 ms, the caller gives up after 50 ms.
        clock.Restart();
        r = me.Call(link, new MsgTag(3, words: 1), L4Timeout.Never, L4Timeout.FromMilliseconds(50));
        Console.WriteLine($"late:   reply slower than a 50 ms receive timeout → {r.Status} after {clock.Elapsed.TotalMilliseconds:0} ms");
        Thread.Sleep(250);
        r = me.Call(link, new MsgTag(1, words: 1), L4Timeout.FromMilliseconds(1000));
        Console.WriteLine($"again:  the late reply was refused, not mixed up with the next call → {r.Status}");

        // 5. Peer death: kill the server while a call is outstanding; the caller learns within milliseconds.
        long killedAt = 0;
        Thread killer = new(() =>
        {
            Thread.Sleep(100);
            server.Kill();
            killedAt = Stopwatch.GetTimestamp();
        });
        killer.Start();
        r = me.Call(link, new MsgTag(4, words: 1), L4Timeout.Never);
        long returnedAt = Stopwatch.GetTimestamp();
        killer.Join();
        Console.WriteLine($"death:  server killed (SIGKILL) during a call without timeout → {r.Status}, {Stopwatch.GetElapsedTime(killedAt, returnedAt).TotalMilliseconds:0.0} ms after the kill");
        server.WaitForExit(5000);
        return r.Status == L4Status.DestinationDeleted ? 0 : 1;
    }
}
