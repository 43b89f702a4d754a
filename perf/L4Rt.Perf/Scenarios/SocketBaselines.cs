using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace L4Rt.Perf.Scenarios;

/// <summary>
/// What a .NET developer would use instead, measured the same way: 64-byte request/response round trips over a
/// Unix domain socket, TCP loopback and anonymous pipes (each to an echo process), and one-way UDS streaming.
/// </summary>
internal static class SocketBaselines
{
    internal const int MessageBytes = 64; // the same payload as an 8-word call

    internal static double[] UdsRtt(int warmup, int iterations)
    {
        string path = Path.Combine(Path.GetTempPath(), $"l4rt-perf-uds-{Guid.NewGuid():N}.sock");
        try
        {
            using WorkerProcess worker = WorkerProcess.Start("uds-echo", path, MessageBytes.ToString(CultureInfo.InvariantCulture));
            using Socket socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return SocketRtt(socket, warmup, iterations);
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static double[] TcpRtt(int warmup, int iterations)
    {
        using WorkerProcess worker = WorkerProcess.Start("tcp-echo", MessageBytes.ToString(CultureInfo.InvariantCulture));
        int port = int.Parse(worker.ReadLine()!, CultureInfo.InvariantCulture);
        using Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        return SocketRtt(socket, warmup, iterations);
    }

    internal static double[] PipeRtt(int warmup, int iterations)
    {
        using WorkerProcess worker = WorkerProcess.Start("pipe-echo", MessageBytes.ToString(CultureInfo.InvariantCulture));
        Stream toWorker = worker.Input;
        Stream fromWorker = worker.Output;
        byte[] message = new byte[MessageBytes];
        double[] rtt = new double[iterations];
        for (int i = -warmup; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            toWorker.Write(message);
            toWorker.Flush();
            fromWorker.ReadExactly(message);
            long end = Stopwatch.GetTimestamp();
            if (i >= 0)
            {
                rtt[i] = (end - start) * 1e9 / Stopwatch.Frequency;
            }
        }

        return rtt;
    }

    /// <summary>One-way UDS streaming of <paramref name="chunk"/>-byte writes; returns (GB/s, msgs/s).</summary>
    internal static (double Gbps, double MsgsPerSecond) UdsStream(int chunk, long totalBytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"l4rt-perf-uds-{Guid.NewGuid():N}.sock");
        try
        {
            using WorkerProcess worker = WorkerProcess.Start("uds-sink", path);
            using Socket socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            byte[] buffer = new byte[chunk];
            long messages = totalBytes / chunk;
            for (int i = 0; i < 1000; i++)
            {
                socket.Send(buffer);
            }

            long start = Stopwatch.GetTimestamp();
            for (long i = 0; i < messages; i++)
            {
                socket.Send(buffer);
            }

            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            socket.Shutdown(SocketShutdown.Send);
            return (messages * (double)chunk / seconds / 1e9, messages / seconds);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double[] SocketRtt(Socket socket, int warmup, int iterations)
    {
        byte[] message = new byte[MessageBytes];
        double[] rtt = new double[iterations];
        for (int i = -warmup; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            socket.Send(message);
            Worker.ReadExactly(socket, message);
            long end = Stopwatch.GetTimestamp();
            if (i >= 0)
            {
                rtt[i] = (end - start) * 1e9 / Stopwatch.Frequency;
            }
        }

        return rtt;
    }
}
