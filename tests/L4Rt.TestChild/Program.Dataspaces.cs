using System.Globalization;
using System.Text;
using L4Rt.Objects;
using L4Rt.Protocol;

namespace L4Rt.TestChild;

/// <summary>Modes that map dataspaces: the other processes of the shared-memory tests.</summary>
internal static partial class Program
{
    private static int? RunDataspaceMode(string[] args) => args[0] switch
    {
        "task-ds" => TaskDataspace(args[1], args[2], args[3], args[4..]),
        "task-ds-create" => TaskDataspaceCreate(args[1], args[2], long.Parse(args[3], CultureInfo.InvariantCulture), args[4]),
        "task-ds-hostile" => TaskDataspaceHostile(args[1], args[2]),
        _ => null,
    };

    /// <summary>
    /// Finds the dataspace <paramref name="name"/>, maps it (<paramref name="access"/> "r" or "rw"), prints
    /// <c>MAPPED length inode</c>, then runs the steps in order: <c>write OFFSET TEXT</c>, <c>expect OFFSET TEXT</c>
    /// (waits until the text is there: another process wrote it), <c>try-write</c> (a write into a read-only
    /// mapping: prints how the API refused it), <c>register NAME</c> (passes the capability on, read and map rights),
    /// <c>wait-revoke</c> (waits until the mapping is revoked, then reads through the old span and maps again).
    /// </summary>
    private static int TaskDataspace(string socket, string name, string access, string[] steps)
    {
        using L4Task task = Join(socket, "ds-" + access);
        Dataspace dataspace = task.Names.QueryAsync<Dataspace>(name, TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        using DataspaceMapping mapping = dataspace.MapAsync(access == "rw" ? CapRights.Write : CapRights.Read).GetAwaiter().GetResult();
        Say($"MAPPED {mapping.Length} {DataspaceProbe.MappedInode(mapping)}");
        for (int i = 0; i < steps.Length; i++)
        {
            switch (steps[i])
            {
                case "write":
                    long at = long.Parse(steps[++i], CultureInfo.InvariantCulture);
                    Say($"WROTE {mapping.Write(at, Encoding.UTF8.GetBytes(steps[++i]))}");
                    break;
                case "expect":
                    long from = long.Parse(steps[++i], CultureInfo.InvariantCulture);
                    byte[] expected = Encoding.UTF8.GetBytes(steps[++i]);
                    bool seen = SpinUntil(() => mapping.ReadOnlySpan.Slice((int)from, expected.Length).SequenceEqual(expected));
                    Say(seen ? $"SAW {steps[i]}" : "ERROR the text never arrived");
                    break;
                case "try-write":
                    string how;
                    try
                    {
                        mapping.Span[0] = 1;
                        how = "written";
                    }
                    catch (L4RtException e)
                    {
                        how = e.Status.ToString();
                    }

                    Say($"REFUSED span:{how} write:{mapping.Write(0, [1])} first:{mapping.ReadOnlySpan[0]}");
                    break;
                case "register":
                    task.Names.RegisterAsync(steps[++i], dataspace, CapRights.Read | CapRights.Map).GetAwaiter().GetResult();
                    Say("REGISTERED");
                    break;
                case "wait-revoke":
                    ReadOnlySpan<byte> old = mapping.ReadOnlySpan; // taken before: must read zeros afterwards, not fault
                    bool revoked = SpinUntil(() => mapping.Status != L4Status.Ok);
                    int nonZero = old.IndexOfAnyExcept((byte)0);
                    L4Status again;
                    try
                    {
                        dataspace.MapAsync(CapRights.Read).GetAwaiter().GetResult().Dispose();
                        again = L4Status.Ok;
                    }
                    catch (L4RtException e)
                    {
                        again = e.Status;
                    }

                    Say(revoked ? $"REVOKED {mapping.Status} nonzero:{nonZero} remap:{again}" : "ERROR never revoked");
                    break;
                default:
                    Say($"ERROR unknown step {steps[i]}");
                    return 2;
            }
        }

        Say("DONE");
        return 0;
    }

    /// <summary>Creates a dataspace, writes <paramref name="text"/> at 0, registers it (read and map rights) and sleeps until killed.</summary>
    private static int TaskDataspaceCreate(string socket, string name, long size, string text)
    {
        L4Task task = Join(socket, "ds-creator");
        Dataspace dataspace = task.Factory.CreateDataspaceAsync(size).GetAwaiter().GetResult();
        DataspaceMapping mapping = dataspace.MapAsync(CapRights.Write).GetAwaiter().GetResult();
        Encoding.UTF8.GetBytes(text).CopyTo(mapping.Span);
        task.Names.RegisterAsync(name, dataspace, CapRights.Read | CapRights.Map).GetAwaiter().GetResult();
        Say("READY");
        Thread.Sleep(Timeout.Infinite);
        GC.KeepAlive(mapping);
        return 0;
    }

    /// <summary>
    /// A hostile holder of a read-only capability: takes the raw descriptor (bypassing the SDK's mapping), gives up
    /// what would bypass file modes (CAP_DAC_OVERRIDE and friends, when running as root), then tries every way to
    /// write through it. Prints <c>HOSTILE</c> with the errno of each attempt (0 would mean it worked).
    /// </summary>
    private static unsafe int TaskDataspaceHostile(string socket, string name)
    {
        using L4Task task = Join(socket, "ds-hostile");
        Dataspace dataspace = task.Names.QueryAsync<Dataspace>(name, TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        Protocol.Messages.DataspaceAttach.Reply raw = task.RequestAsync(new Protocol.Messages.DataspaceAttach.Request(dataspace.Slot, 0), "attach read-only").GetAwaiter().GetResult();
        using Microsoft.Win32.SafeHandles.SafeFileHandle fd = raw.Memory;
        Capabilities.DropFileModeOverrides();
        int mmap = Errno(() => Interop.Libc.Mmap.MapShared(fd, raw.Size, Interop.Libc.Mmap.PROT_READ | Interop.Libc.Mmap.PROT_WRITE));
        using (Interop.Libc.Files.TryOpen($"/proc/self/fd/{fd.DangerousGetHandle()}", Interop.Libc.Fcntl.O_RDWR, out int reopen))
        {
            int write = Errno(() => RandomAccess.Write(fd, new byte[] { 1 }, 0));
            int seal = Errno(() => Interop.Libc.Fcntl.AddSeals(fd, Interop.Libc.Fcntl.F_SEAL_WRITE));
            int truncate = Errno(() => Interop.Libc.Sys.FTruncate(fd, 0));
            Say($"HOSTILE mmap:{mmap} reopen:{reopen} write:{write} seal:{seal} truncate:{truncate}");
        }

        return 0;
    }

    private static int Errno(Action attempt)
    {
        try
        {
            attempt();
            return 0;
        }
        catch (IOException e)
        {
            return e.HResult;
        }
        catch (UnauthorizedAccessException)
        {
            return 9; // .NET's mapping of EBADF on a write to a read-only handle
        }
    }

    private static bool SpinUntil(Func<bool> condition) => SpinWait.SpinUntil(() =>
    {
        if (condition())
        {
            return true;
        }

        Thread.Sleep(1);
        return false;
    }, TimeSpan.FromSeconds(20));
}

/// <summary>capget/capset: a root test process gives up the capabilities that override file modes.</summary>
internal static partial class Capabilities
{
    private const uint Version3 = 0x20080522;
    private const uint FileModeOverrides = (1u << 1) | (1u << 2) | (1u << 3); // CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "capget", SetLastError = true)]
    private static unsafe partial int CapGet(Header* header, Data* data);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "capset", SetLastError = true)]
    private static unsafe partial int CapSet(Header* header, Data* data);

    internal static unsafe void DropFileModeOverrides()
    {
        Header header = new() { Version = Version3, Pid = 0 };
        Data* data = stackalloc Data[2];
        if (CapGet(&header, data) != 0)
        {
            throw new IOException($"capget failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
        }

        data[0].Effective &= ~FileModeOverrides;
        data[0].Permitted &= ~FileModeOverrides;
        data[0].Inheritable &= ~FileModeOverrides;
        if (CapSet(&header, data) != 0)
        {
            throw new IOException($"capset failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
        }
    }

    private struct Header
    {
        public uint Version;
        public int Pid;
    }

    private struct Data
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }
}
