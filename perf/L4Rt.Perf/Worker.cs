using System.Globalization;
using L4Rt.Ipc;

namespace L4Rt.Perf;

/// <summary>The partner processes of the scenarios: the harness starts its own executable in worker mode.</summary>
internal static class Worker
{
    internal static int Run(string[] args)
    {
        ProcessLifetime.ExitWhenParentExits();
        switch (args[1])
        {
            case "echo":
                return Echo(args[2], long.Parse(args[3], CultureInfo.InvariantCulture));
            case "gate-echo":
                return GateEcho(args[2], args[3]);
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

    /// <summary>Serves calls on one link: replies with the words it got, until the link's sender is gone.</summary>
    private static int Echo(string path, long spinNs)
    {
        using L4Thread server = new() { SpinNanoseconds = spinNs };
        using DirectLinkListener listener = DirectLinkListener.Listen(path);
        Console.WriteLine("READY");
        using ReceiveLink link = listener.Accept(server, 1, TimeSpan.FromSeconds(60));
        IpcResult msg = server.Receive(link, L4Timeout.Never);
        while (msg.IsOk)
        {
            msg = server.ReplyAndWait(msg.Tag, L4Timeout.FromMilliseconds(2000));
            while (msg.Status == L4Status.ReceiveTimeout && !link.IsSenderDeleted)
            {
                msg = server.Wait(L4Timeout.FromMilliseconds(2000));
            }
        }

        return 0;
    }
}
