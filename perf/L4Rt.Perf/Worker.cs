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
            default:
                Console.Error.WriteLine($"unknown worker {args[1]}");
                return 2;
        }
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
