using System.Net;
using System.Net.Sockets;

namespace L4Rt.Perf;

/// <summary>Echo workers for the .NET baselines: Unix domain socket, TCP loopback, anonymous pipes (stdin/stdout).</summary>
internal static partial class Worker
{
    /// <summary>Echoes fixed-size messages on a stream socket until the peer closes.</summary>
    private static int SocketEcho(Socket listener, int size)
    {
        using Socket peer = listener.Accept();
        listener.Dispose();
        if (peer.AddressFamily != AddressFamily.Unix)
        {
            peer.NoDelay = true; // TCP: no Nagle delay on small request/response messages
        }
        byte[] buffer = new byte[size];
        while (ReadExactly(peer, buffer))
        {
            peer.Send(buffer);
        }

        return 0;
    }

    private static int UdsEcho(string path, int size)
    {
        Socket listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        Console.WriteLine("READY");
        return SocketEcho(listener, size);
    }

    private static int TcpEcho(int size)
    {
        Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        Console.WriteLine("READY");
        Console.WriteLine(((IPEndPoint)listener.LocalEndPoint!).Port);
        return SocketEcho(listener, size);
    }

    /// <summary>Echoes fixed-size messages from stdin to stdout (anonymous pipes set up by the harness).</summary>
    private static int PipeEcho(int size)
    {
        Console.WriteLine("READY");
        Console.Out.Flush();
        using Stream input = Console.OpenStandardInput();
        using Stream output = Console.OpenStandardOutput();
        byte[] buffer = new byte[size];
        while (true)
        {
            try
            {
                input.ReadExactly(buffer);
            }
            catch (EndOfStreamException)
            {
                return 0;
            }

            output.Write(buffer);
            output.Flush();
        }
    }

    /// <summary>Reads and discards a stream until the peer closes (UDS streaming baseline).</summary>
    private static int UdsSink(string path)
    {
        using Socket listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        Console.WriteLine("READY");
        using Socket peer = listener.Accept();
        byte[] buffer = new byte[1 << 20];
        long total = 0;
        int n;
        while ((n = peer.Receive(buffer)) > 0)
        {
            total += n;
        }

        return total > 0 ? 0 : 1;
    }

    internal static bool ReadExactly(Socket socket, byte[] buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
