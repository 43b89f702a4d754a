using System.Globalization;
using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.TestChild;

/// <summary>Modes that join a real broker as tasks.</summary>
internal static partial class Program
{
    private static int? RunTaskMode(string[] args) => args[0] switch
    {
        "task-server" => TaskServer(args[1], args[2], ulong.Parse(args[3], CultureInfo.InvariantCulture), args[4]),
        "task-caller" => TaskCaller(args[1], args[2], Int(args[3])),
        "task-irq" => TaskIrq(args[1], args[2], Int(args[3])),
        "spawn-grandchild" => SpawnGrandchild(),
        "task-chan-produce" => TaskChannelProduce(args[1], args[2], Int(args[3])),
        _ => null,
    };

    private static L4Task Join(string socket, string name) =>
        L4Task.ConnectAsync(new L4TaskOptions { SocketPath = socket, Name = name, ConnectTimeout = TimeSpan.FromSeconds(20) }).GetAwaiter().GetResult();

    /// <summary>Registers a gate (with <paramref name="label"/>) under <paramref name="name"/> and serves: "echo" or "hold".</summary>
    private static int TaskServer(string socket, string name, ulong label, string behaviour)
    {
        using L4Task task = Join(socket, "server-" + name);
        using L4Thread thread = task.CreateThread();
        Gate gate = task.Factory.CreateGateAsync(thread, label).GetAwaiter().GetResult();
        task.Names.RegisterAsync(name, gate).GetAwaiter().GetResult();
        Say("READY");
        IpcResult msg = thread.Wait(L4Timeout.Never);
        while (true)
        {
            if (!msg.IsOk)
            {
                Say($"WAIT {msg.Status}");
                return 0;
            }

            if (behaviour == "hold")
            {
                AwaitCallerAsleep(thread.ReplyLink!);
                Say("HOLD");
                Thread.Sleep(Timeout.Infinite);
            }

            thread.Utcb.Mr[0]++;
            msg = thread.ReplyAndWait(msg.Tag, L4Timeout.Never);
        }
    }

    /// <summary>Finds <paramref name="name"/> and calls it <paramref name="count"/> times (0: once, without a timeout, reporting the status).</summary>
    private static int TaskCaller(string socket, string name, int count)
    {
        using L4Task task = Join(socket, "caller");
        Gate gate = task.Names.QueryAsync<Gate>(name, TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        using L4Thread me = new();
        if (count == 0)
        {
            Say("CALLING");
            IpcResult r = me.Call(gate, new MsgTag(1, 1), L4Timeout.Never);
            Say($"CALL {r.Status} {NowNs()}");
            return 0;
        }

        int bad = 0;
        for (int i = 0; i < count; i++)
        {
            me.Utcb.Mr[0] = (ulong)i;
            IpcResult r = me.Call(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000));
            bad += r.IsOk && me.Utcb.Mr[0] == (ulong)i + 1 ? 0 : 1;
        }

        Say($"DONE {count - bad} {bad}");
        return 0;
    }

    /// <summary>Finds the channel <paramref name="name"/>, takes its producer end, writes <paramref name="count"/> records, hangs.</summary>
    private static int TaskChannelProduce(string socket, string name, int count)
    {
        L4Task task = Join(socket, "chan-producer");
        Channel channel = task.Names.QueryAsync<Channel>(name, TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        Channels.ChannelProducer producer = channel.OpenProducerAsync().GetAwaiter().GetResult();
        for (int i = 0; i < count; i++)
        {
            producer.Write(BitConverter.GetBytes(i), L4Timeout.Never);
        }

        Say($"PRODUCED {count}");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>Starts another helper (which sleeps forever), prints its pid and hangs: for the parent-death test.</summary>
    private static int SpawnGrandchild()
    {
        System.Diagnostics.ProcessStartInfo info = new("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
        info.ArgumentList.Add(typeof(Program).Assembly.Location);
        info.ArgumentList.Add("receiver-script");
        info.ArgumentList.Add(Path.Combine(Path.GetTempPath(), $"l4rt-grandchild-{Environment.ProcessId}.sock"));
        info.ArgumentList.Add("sleep:600000");
        using System.Diagnostics.Process grandchild = System.Diagnostics.Process.Start(info)!;
        grandchild.StandardOutput.ReadLine(); // READY
        Say($"GRANDCHILD {grandchild.Id}");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>Finds the IRQ <paramref name="name"/> and triggers it <paramref name="count"/> times directly.</summary>
    private static int TaskIrq(string socket, string name, int count)
    {
        using L4Task task = Join(socket, "irq-source");
        Irq irq = task.Names.QueryAsync<Irq>(name, TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        int failed = 0;
        for (int i = 0; i < count; i++)
        {
            failed += irq.Trigger() == L4Status.Ok ? 0 : 1;
        }

        Say($"DONE {failed}");
        return 0;
    }
}
