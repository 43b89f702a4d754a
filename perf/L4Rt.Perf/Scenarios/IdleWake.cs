using System.Buffers.Binary;
using System.Diagnostics;
using L4Rt.Channels;
using L4Rt.Ipc;

namespace L4Rt.Perf.Scenarios;

/// <summary>
/// Waking an idle receiver, one way: the receiver (another process) has been idle for <c>idleMs</c>, long past its
/// spin budget, so it sleeps in the kernel; the harness stamps the monotonic clock and sends; the receiver stamps
/// when it has the message and hands its stamp back (in the reply, or on a second channel). The latency users of an
/// idle service feel, beside the C floor <c>c_idle_wake_us</c> (FUTEX_WAIT / stamp + FUTEX_WAKE).
/// </summary>
internal static class IdleWake
{
    /// <summary>IPC: a Call to a direct-link server idle in open wait; the one-way part is its stamp minus ours, in µs.</summary>
    internal static double[] IpcUs(int samples, int idleMs, long callerSpinNs = L4Thread.DefaultSpinNanoseconds)
    {
        string path = Path.Combine(Path.GetTempPath(), $"l4rt-perf-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using WorkerProcess worker = WorkerProcess.Start("echo", path, L4Thread.DefaultSpinNanoseconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "stamp");
        using SendLink link = DirectLink.Connect(path, TimeSpan.FromSeconds(30));
        using L4Thread me = new() { SpinNanoseconds = callerSpinNs };
        MsgTag tag = new(1, 1);
        double[] us = new double[samples];
        for (int i = -20; i < samples; i++)
        {
            Thread.Sleep(idleMs);
            long sent = Stopwatch.GetTimestamp();
            IpcResult r = me.Call(link, tag, L4Timeout.FromMilliseconds(5000));
            if (!r.IsOk)
            {
                throw new InvalidOperationException($"idle-wake call failed: {r.Status}");
            }

            if (i >= 0)
            {
                us[i] = ((long)me.Utcb.Mr[0] - sent) * 1e6 / Stopwatch.Frequency;
            }
        }

        return us;
    }

    /// <summary>FIFO: an 8-byte record to a consumer idle in Read; it answers with its read stamp on a second channel, in µs.</summary>
    internal static double[] FifoUs(int samples, int idleMs)
    {
        string inPath = Path.Combine(Path.GetTempPath(), $"l4rt-perf-{Environment.ProcessId}-{Guid.NewGuid():N}-in.sock");
        string outPath = Path.Combine(Path.GetTempPath(), $"l4rt-perf-{Environment.ProcessId}-{Guid.NewGuid():N}-out.sock");
        using DirectChannelListener toWorker = DirectChannelListener.Listen(inPath);
        using DirectChannelListener fromWorker = DirectChannelListener.Listen(outPath);
        Task<ChannelProducer> accepting = Task.Run(() => toWorker.AcceptAsProducer(1 << 16, TimeSpan.FromSeconds(60)));
        Task<ChannelConsumer> acceptingAnswers = Task.Run(() => fromWorker.AcceptAsConsumer(1 << 16, TimeSpan.FromSeconds(60)));
        using WorkerProcess worker = WorkerProcess.Start("fifo-stamp", inPath, outPath); // returns once the worker is connected
        using ChannelProducer producer = accepting.GetAwaiter().GetResult();
        using ChannelConsumer answers = acceptingAnswers.GetAwaiter().GetResult();
        byte[] record = new byte[8];
        double[] us = new double[samples];
        for (int i = -20; i < samples; i++)
        {
            Thread.Sleep(idleMs);
            long sent = Stopwatch.GetTimestamp();
            if (producer.Write(record, L4Timeout.FromMilliseconds(5000)) != L4Status.Ok
                || answers.Read(L4Timeout.FromMilliseconds(5000), out ReadOnlySpan<byte> stamp) != L4Status.Ok)
            {
                throw new InvalidOperationException("idle-wake FIFO exchange failed");
            }

            long read = BinaryPrimitives.ReadInt64LittleEndian(stamp);
            answers.Release();
            if (i >= 0)
            {
                us[i] = (read - sent) * 1e6 / Stopwatch.Frequency;
            }
        }

        return us;
    }
}
