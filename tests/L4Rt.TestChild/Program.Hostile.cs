using System.IO.Pipes;
using System.Runtime.InteropServices;
using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Memory;
using L4Rt.Objects;
using L4Rt.Protocol;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.TestChild;

/// <summary>
/// Hostile tasks for the broker-survival tests: they register names until the lists outgrow a frame, pass
/// descriptors of every wrong kind, and spend the broker's descriptors through every path that makes it
/// hold one, then wait to be killed (the test checks the broker's descriptors return to its baseline).
/// </summary>
internal static partial class Program
{
    private static int? RunHostileMode(string[] args) => args[0] switch
    {
        "hostile-names" => HostileNames(args[1], Int(args[2])),
        "hostile-fds" => HostileFds(args[1]),
        "hostile-exhaust" => HostileExhaust(args[1]),
        "hostile-flood" => HostileFlood(args[1], Int(args[2])),
        _ => null,
    };

    /// <summary>Registers <paramref name="count"/> names of the maximum length, then hangs.</summary>
    private static int HostileNames(string socket, int count)
    {
        L4Task task = Join(socket, "hostile-names");
        L4Thread thread = task.CreateThread();
        Gate gate = task.Factory.CreateGateAsync(thread, 1).GetAwaiter().GetResult();
        for (int i = 0; i < count; i++)
        {
            string name = $"hostile/{i:D6}/".PadRight(ProtocolLimits.MaxNameLength, 'x');
            task.Names.RegisterAsync(name, gate).GetAwaiter().GetResult();
        }

        Say($"REGISTERED {count}");
        Thread.Sleep(Timeout.Infinite);
        GC.KeepAlive(thread);
        return 0;
    }

    /// <summary>Passes each wrong kind of descriptor as a thread's doorbell; one line per kind with the broker's answer.</summary>
    private static int HostileFds(string socket)
    {
        L4Task task = Join(socket, "hostile-fds");
        using TempFile file = new();
        (string Kind, Func<SafeHandle> Make)[] kinds =
        [
            ("pipe", () => new AnonymousPipeServerStream(PipeDirection.Out).ClientSafePipeHandle),
            ("directory", () => OpenRaw("/tmp", O_RDONLY | O_DIRECTORY)),
            ("dev-zero", () => OpenRaw("/dev/zero", O_RDWR)),
            ("socket", () => Libc.Socket.CreateSeqpacket()),
            ("regular-file", () => file.OpenSized(DoorbellLayout.RegionSize)),
            ("read-only-memfd", () => Reopen(Sealed(DoorbellLayout.RegionSize), O_RDONLY)),
            ("unsealed-memfd", () => Sized(DoorbellLayout.RegionSize)),
            ("shrunk-memfd", () => Sealed(DoorbellLayout.RegionSize / 2)),
            ("write-sealed-memfd", () => Sealed(DoorbellLayout.RegionSize, Libc.Fcntl.F_SEAL_FUTURE_WRITE)),
            ("good", () => DoorbellRegion.Create().Handle),
        ];
        foreach ((string kind, Func<SafeHandle> make) in kinds)
        {
            using SafeHandle fd = make();
            using ControlResponse response = task.CallAsync(Opcode.CreateThread, new Payload().Int32(task.Factory.Slot), default, fd).GetAwaiter().GetResult();
            string message = response.Status == L4Status.Ok ? "" : new FrameReader(response.Payload).ReadString();
            Say($"FD {kind} {response.Status} {message}");
        }

        Say("DONE");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>
    /// Spends descriptors through every path that makes the broker hold one: threads (a passed doorbell),
    /// channels, IRQs and gate links, each in its own task until its quota says no; then new tasks making
    /// threads until the broker's own budget says no. One line per path with the count and the refusal.
    /// </summary>
    private static int HostileExhaust(string socket)
    {
        List<object> keep = [];
        Exhaust("threads", socket, keep, (task, _) => keep.Add(task.CreateThread()));
        Exhaust("channels", socket, keep, (task, _) => keep.Add(task.Factory.CreateChannelAsync(ChannelRegion.MinCapacity).GetAwaiter().GetResult()));
        L4Thread? irqThread = null;
        Exhaust("irqs", socket, keep, (task, _) =>
        {
            irqThread ??= task.CreateThread();
            keep.Add(task.Factory.CreateIrqAsync(irqThread, 7).GetAwaiter().GetResult());
        });
        L4Thread? receiver = null;
        Gate? gate = null;
        Exhaust("links", socket, keep, (task, _) =>
        {
            receiver ??= task.CreateThread();
            gate ??= task.Factory.CreateGateAsync(receiver, 9).GetAwaiter().GetResult();
            L4Thread sender = new();
            keep.Add(sender);
            L4Status status = gate.Prepare(sender);
            if (status != L4Status.Ok)
            {
                throw new L4RtException(status, $"link setup: {status}");
            }
        });

        // Now the broker's own budget: more tasks, each making threads, until the broker refuses.
        int tasks = 0, threads = 0;
        string refusal = "none";
        try
        {
            for (int t = 0; t < 1000 && refusal == "none"; t++)
            {
                L4Task task = Join(socket, "hostile-more");
                keep.Add(task);
                tasks++;
                for (int i = 0; i < 1000; i++)
                {
                    try
                    {
                        keep.Add(task.CreateThread());
                        threads++;
                    }
                    catch (L4RtException e) when (e.Status == L4Status.QuotaExceeded)
                    {
                        if (!e.Message.Contains("of the task's", StringComparison.Ordinal))
                        {
                            refusal = e.Message;
                        }

                        break;
                    }
                }
            }
        }
        catch (L4RtException e)
        {
            refusal = $"{e.Status} {e.Message}"; // the broker refused the connection itself
        }

        Say($"GLOBAL {tasks} {threads} {refusal}");
        Say("DONE");
        Thread.Sleep(Timeout.Infinite);
        GC.KeepAlive(keep);
        return 0;
    }

    private static void Exhaust(string path, string socket, List<object> keep, Action<L4Task, int> create)
    {
        L4Task task = Join(socket, "hostile-" + path);
        keep.Add(task);
        int made = 0;
        for (int i = 0; i < 10_000; i++)
        {
            try
            {
                create(task, i);
                made++;
            }
            catch (L4RtException e)
            {
                Say($"EXHAUSTED {path} {made} {e.Status} {e.Message}");
                return;
            }
        }

        Say($"EXHAUSTED {path} {made} none");
    }

    /// <summary>Opens <paramref name="count"/> connections that never join; reports how many the broker refused at once.</summary>
    private static int HostileFlood(string socket, int count)
    {
        List<UnixSeqpacketSocket> held = [];
        int refused = 0, failed = 0;
        byte[] buffer = new byte[ProtocolLimits.MaxFrameSize];
        List<SafeFdHandle> fds = [];
        for (int i = 0; i < count; i++)
        {
            UnixSeqpacketSocket? s = UnixSeqpacketSocket.TryConnect(socket, out _);
            if (s is null)
            {
                failed++;
                continue;
            }

            held.Add(s);
        }

        Thread.Sleep(500); // the broker refuses what is over its bound with a frame, then closes
        foreach (UnixSeqpacketSocket s in held)
        {
            if (s.WaitReadable(0) && s.Receive(buffer, fds) > 0)
            {
                refused++;
            }
        }

        Say($"FLOOD {held.Count} {refused} {failed}");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    private static SafeFileHandle Sized(long size)
    {
        SafeFileHandle fd = Libc.Memfd.Create("hostile");
        Libc.Sys.FTruncate(fd, size);
        return fd;
    }

    private static SafeFileHandle Sealed(long size, int extraSeals = 0)
    {
        SafeFileHandle fd = Sized(size);
        Libc.Fcntl.AddSeals(fd, Libc.Fcntl.F_SEAL_SHRINK | Libc.Fcntl.F_SEAL_GROW | extraSeals);
        return fd;
    }

    private static SafeFileHandle Reopen(SafeFileHandle fd, int flags)
    {
        using (fd)
        {
            return OpenRaw($"/proc/self/fd/{fd.DangerousGetHandle()}", flags);
        }
    }

    private const int O_RDONLY = 0;
    private const int O_RDWR = 2;
    private static readonly int O_DIRECTORY = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : 0x10000;
    private const int O_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags);

    private static SafeFileHandle OpenRaw(string path, int flags)
    {
        int fd = OpenNative(path, flags | O_CLOEXEC);
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : throw new IOException($"open({path}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>A regular file on disk, removed when disposed.</summary>
    private sealed class TempFile : IDisposable
    {
        private readonly string _path = Path.Combine(Path.GetTempPath(), $"l4rt-hostile-{Environment.ProcessId}-{Guid.NewGuid():N}");

        internal SafeFileHandle OpenSized(long size)
        {
            SafeFileHandle fd = File.OpenHandle(_path, FileMode.Create, FileAccess.ReadWrite);
            RandomAccess.SetLength(fd, size);
            return fd;
        }

        public void Dispose() => File.Delete(_path);
    }
}
