using System.Diagnostics;
using System.Globalization;
using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.Perf;

/// <summary>The partner processes of the scenarios: the harness starts its own executable in worker mode.</summary>
internal static partial class Worker
{
    internal static int Run(string[] args)
    {
        ProcessLifetime.ExitWhenParentExits();
        switch (args[1])
        {
            case "echo":
                return Echo(args[2], long.Parse(args[3], CultureInfo.InvariantCulture), stamp: args.Length > 4 && args[4] == "stamp");
            case "marshal-echo":
                return MarshalEcho(args[2], Enum.Parse<Shared.MarshallingStyle>(args[3]));
            case "gate-echo":
                return GateEcho(args[2], args[3]);
            case "gate-items":
                return GateItems(args[2], args[3]);
            case "pager":
                return Pager(args[2], args[3], long.Parse(args[4], CultureInfo.InvariantCulture));
            case "uds-echo":
                return UdsEcho(args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
            case "tcp-echo":
                return TcpEcho(int.Parse(args[2], CultureInfo.InvariantCulture));
            case "pipe-echo":
                return PipeEcho(int.Parse(args[2], CultureInfo.InvariantCulture));
            case "uds-sink":
                return UdsSink(args[2]);
            case "sender":
                return Sender(args[2], int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture));
            case "idle-links":
                return IdleLinks(args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
            case "fifo-produce":
                return FifoProduce(args[2], int.Parse(args[3], CultureInfo.InvariantCulture), long.Parse(args[4], CultureInfo.InvariantCulture), args[5]);
            case "fifo-stamp":
                return FifoStamp(args[2], args[3]);
            case "irq-receiver":
                return IrqReceiver(args[2], args[3]);
            default:
                Console.Error.WriteLine($"unknown worker {args[1]}");
                return 2;
        }
    }

    /// <summary>Joins the broker at <paramref name="socket"/>, registers a gate as <paramref name="name"/>, serves calls.</summary>
    private static int GateEcho(string socket, string name)
    {
        using L4Task task = L4Task.ConnectAsync(new L4TaskOptions { SocketPath = socket, Name = "bench-server", ConnectTimeout = TimeSpan.FromSeconds(30) }).GetAwaiter().GetResult();
        using L4Thread server = task.CreateThread();
        Objects.Gate gate = task.Factory.CreateGateAsync(server, 1).GetAwaiter().GetResult();
        task.Names.RegisterAsync(name, gate).GetAwaiter().GetResult();
        Console.WriteLine("READY");
        IpcResult msg = server.Wait(L4Timeout.Never);
        while (msg.Status is L4Status.Ok or L4Status.ReceiveTimeout)
        {
            msg = msg.IsOk ? server.ReplyAndWait(msg.Tag, L4Timeout.Never) : server.Wait(L4Timeout.Never);
        }

        return 0;
    }

    /// <summary>
    /// As <see cref="GateEcho"/>, accepting one capability and flexpages into a 64 KiB window: each call is answered with
    /// its words; a received flexpage is unmapped after the reply (received capabilities are kept).
    /// </summary>
    /// <summary>
    /// Serves a paged dataspace of <paramref name="size"/> bytes, registered as <paramref name="name"/> (read and map), its
    /// gate as <paramref name="name"/>-gate: each fault (or direct PageFault call) is answered with a page of words derived
    /// from its offset, placed through the backing.
    /// </summary>
    private static int Pager(string socket, string name, long size)
    {
        using L4Task task = L4Task.ConnectAsync(new L4TaskOptions { SocketPath = socket, Name = "bench-pager", ConnectTimeout = TimeSpan.FromSeconds(30) }).GetAwaiter().GetResult();
        using L4Thread server = task.CreateThread();
        Objects.Gate gate = task.Factory.CreateGateAsync(server, 1).GetAwaiter().GetResult();
        Objects.Dataspace dataspace = task.Factory.CreatePagedDataspaceAsync(size, gate, 1, TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        using Objects.PagerBacking backing = dataspace.MapBackingAsync().GetAwaiter().GetResult();
        task.Names.RegisterAsync(name, dataspace, Protocol.CapRights.Read | Protocol.CapRights.Map).GetAwaiter().GetResult();
        task.Names.RegisterAsync(name + "-gate", gate).GetAwaiter().GetResult();
        Console.WriteLine("READY");
        ulong[] page = new ulong[Objects.PageFault.PageSize / sizeof(ulong)];
        IpcResult msg = server.Wait(L4Timeout.Never);
        while (msg.Status is L4Status.Ok or L4Status.ReceiveTimeout)
        {
            if (!msg.IsOk || !Objects.PageFault.TryRead(server.Utcb, msg.Tag, out Objects.PageFault fault) || fault.Offset >= backing.Length)
            {
                msg = server.Wait(L4Timeout.Never);
                continue;
            }

            for (int i = 0; i < page.Length; i++)
            {
                page[i] = (ulong)fault.Offset + (ulong)i;
            }

            L4Status placed = backing.Supply(fault.Offset, System.Runtime.InteropServices.MemoryMarshal.AsBytes(page.AsSpan()));
            MsgTag reply = Objects.PageFault.Reply(server.Utcb, fault, placed is L4Status.Ok or L4Status.AlreadyExists ? L4Status.Ok : L4Status.Aborted);
            msg = server.ReplyAndWait(reply, L4Timeout.Never);
        }

        return 0;
    }

    private static int GateItems(string socket, string name)
    {
        using L4Task task = L4Task.ConnectAsync(new L4TaskOptions { SocketPath = socket, Name = "bench-items", ConnectTimeout = TimeSpan.FromSeconds(30) }).GetAwaiter().GetResult();
        using L4Thread server = task.CreateThread();
        using Objects.ReceiveWindow window = task.CreateReceiveWindow(64 * 1024);
        server.Utcb.SetReceiveBuffers(1, window);
        Objects.Gate gate = task.Factory.CreateGateAsync(server, 1).GetAwaiter().GetResult();
        task.Names.RegisterAsync(name, gate).GetAwaiter().GetResult();
        Console.WriteLine("READY");
        IpcResult msg = server.Wait(L4Timeout.Never);
        while (msg.Status is L4Status.Ok or L4Status.ReceiveTimeout)
        {
            if (!msg.IsOk)
            {
                msg = server.Wait(L4Timeout.Never);
                continue;
            }

            Objects.DataspaceMapping? received = null;
            if (msg.Tag.Items == 1 && Objects.MsgItem.FromRegisters(server.Utcb.Mr[msg.Tag.Words], 0).Kind == Objects.MsgItemKind.Memory)
            {
                received = server.GetReceivedMapping(0);
            }

            L4Status replied = server.Reply(new MsgTag(msg.Tag.Protocol, msg.Tag.Words));
            received?.Dispose();
            msg = replied == L4Status.Aborted ? new IpcResult(L4Status.Aborted) : server.Wait(L4Timeout.Never);
        }

        return 0;
    }

    /// <summary>Opens <paramref name="links"/> links to the listener at <paramref name="path"/> and sends on them as fast as it can, round-robin, until killed.</summary>
    private static int Sender(string path, int links, int threads)
    {
        List<Thread> workers = [];
        Console.WriteLine("READY");
        for (int t = 0; t < threads; t++)
        {
            List<SendLink> opened = [];
            for (int i = 0; i < links; i++)
            {
                opened.Add(DirectLink.Connect(path, TimeSpan.FromSeconds(60)));
            }

            Thread worker = new(() =>
            {
                using L4Thread me = new();
                MsgTag tag = new(1, 2);
                for (ulong n = 0; ; n++)
                {
                    foreach (SendLink link in opened)
                    {
                        me.Utcb.Mr[0] = n;
                        if (!me.Send(link, tag, L4Timeout.Never).IsOk)
                        {
                            return;
                        }
                    }
                }
            }) { IsBackground = true };
            workers.Add(worker);
            worker.Start();
        }

        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        return 0;
    }

    /// <summary>Opens <paramref name="links"/> links to the listener and keeps them idle.</summary>
    private static int IdleLinks(string path, int links)
    {
        List<SendLink> opened = [];
        for (int i = 0; i < links; i++)
        {
            opened.Add(DirectLink.Connect(path, TimeSpan.FromSeconds(60)));
        }

        Console.WriteLine("READY");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>
    /// IRQ latency partner: joins the broker, binds an IRQ to its thread, registers it, and for every delivery
    /// sends the delivery timestamp back over a direct link to the harness (listening at <paramref name="reportPath"/>).
    /// </summary>
    private static int IrqReceiver(string socket, string reportPath)
    {
        using L4Task task = L4Task.ConnectAsync(new L4TaskOptions { SocketPath = socket, Name = "bench-irq", ConnectTimeout = TimeSpan.FromSeconds(30) }).GetAwaiter().GetResult();
        using L4Thread thread = task.CreateThread();
        Objects.Irq irq = task.Factory.CreateIrqAsync(thread, 99).GetAwaiter().GetResult();
        task.Names.RegisterAsync("bench/irq", irq).GetAwaiter().GetResult();
        Console.WriteLine("READY");
        using SendLink report = DirectLink.Connect(reportPath, TimeSpan.FromSeconds(60));
        using L4Thread reporter = new();
        while (true)
        {
            IpcResult r = thread.Wait(L4Timeout.Never);
            long delivered = System.Diagnostics.Stopwatch.GetTimestamp();
            if (!r.IsOk)
            {
                return 0;
            }

            reporter.Utcb.Mr[0] = (ulong)delivered;
            reporter.Utcb.Mr[1] = thread.Utcb.Mr[0];
            if (!reporter.Send(report, new MsgTag(1, 2), L4Timeout.FromMilliseconds(5000)).IsOk)
            {
                return 0;
            }
        }
    }

    /// <summary>Serves calls on a direct link; with <paramref name="stamp"/>, MR0 of each reply is the monotonic time the message was taken.</summary>
    private static int Echo(string path, long spinNs, bool stamp) => Serve(path, spinNs, (server, msg) =>
    {
        if (stamp)
        {
            server.Utcb.Mr[0] = (ulong)Stopwatch.GetTimestamp();
        }

        return msg.Tag;
    });

    /// <summary>
    /// Serves calls in open wait, accepting any number of links (labels 1, 2, ...) on a background thread, so a
    /// scenario can add idle links (another process) next to the active one; each call is answered with what
    /// <paramref name="answer"/> returns. Runs until killed.
    /// </summary>
    private static int Serve(string path, long spinNs, Func<L4Thread, IpcResult, MsgTag> answer)
    {
        using L4Thread server = new() { SpinNanoseconds = spinNs };
        using DirectLinkListener listener = DirectLinkListener.Listen(path);
        Thread acceptor = new(() =>
        {
            for (ulong label = 1; ; label++)
            {
                try
                {
                    listener.Accept(server, label, Timeout.InfiniteTimeSpan);
                }
                catch (Exception e) when (e is IOException or L4RtException or TimeoutException)
                {
                    return;
                }
            }
        }) { IsBackground = true };
        acceptor.Start();
        Console.WriteLine("READY");
        IpcResult msg = server.Wait(L4Timeout.Never);
        while (true)
        {
            msg = msg.IsOk ? server.ReplyAndWait(answer(server, msg), L4Timeout.Never) : server.Wait(L4Timeout.Never);
        }
    }
}
