using System.IO.MemoryMappedFiles;
using L4Rt.Interop;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Memory;

/// <summary>
/// A memfd mapped read-write into this process. The region has no file-system name: it reaches another
/// process only as a passed descriptor. The creator seals its size, so no peer can shrink it under a
/// mapping (which would turn our accesses into SIGBUS); an attacher refuses an unsealed descriptor.
/// The base pointer is taken once from the view's SafeHandle and stays valid until <see cref="Dispose"/>.
/// </summary>
internal sealed unsafe class SharedRegion : IDisposable
{
    private const int RequiredSeals = Libc.Fcntl.F_SEAL_SHRINK | Libc.Fcntl.F_SEAL_GROW;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;
    private int _disposed;

    private SharedRegion(SafeFileHandle handle, long size)
    {
        Handle = handle;
        Size = size;
        _file = MemoryMappedFile.CreateFromFile(handle, mapName: null, size, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        try
        {
            _view = _file.CreateViewAccessor(0, size, MemoryMappedFileAccess.ReadWrite);
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _base);
            _base += _view.PointerOffset;
        }
        catch
        {
            _view?.Dispose();
            _file.Dispose();
            throw;
        }
    }

    /// <summary>The descriptor, for passing the region on with SCM_RIGHTS.</summary>
    internal SafeFileHandle Handle { get; }

    internal long Size { get; }

    internal byte* Base => _base;

    /// <summary>Creates a zero-filled region of <paramref name="size"/> bytes, size-sealed.</summary>
    internal static SharedRegion Create(string name, long size)
    {
        SafeFileHandle fd = CreateSealedFile(name, size);
        try
        {
            return new SharedRegion(fd, size);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>A zero-filled memfd of <paramref name="size"/> bytes, sealed against shrinking, growing and further seals (not mapped here).</summary>
    internal static SafeFileHandle CreateSealedFile(string name, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        SafeFileHandle fd = Libc.Memfd.Create(name);
        try
        {
            Libc.Sys.FTruncate(fd, size);
            Libc.Fcntl.AddSeals(fd, RequiredSeals | Libc.Fcntl.F_SEAL_SEAL);
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Maps a region received from another process. The descriptor must be a size-sealed, read-write memfd of
    /// exactly <paramref name="expectedSize"/> bytes that is not write-sealed; anything else (a pipe, a
    /// directory, a device, a read-only or unsealed or resized memfd) is a protocol violation by the sender,
    /// refused with the reason before anything is mapped. Takes ownership of <paramref name="fd"/>.
    /// </summary>
    internal static SharedRegion Attach(SafeFileHandle fd, long expectedSize)
    {
        try
        {
            Check(fd, expectedSize);
            try
            {
                return new SharedRegion(fd, expectedSize);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Refused($"could not be mapped read-write ({e.Message})", e);
            }
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Why a received descriptor cannot be a shared region of <paramref name="expectedSize"/> bytes (to be mapped
    /// read-write, or read-only when <paramref name="writable"/> is false), checked cheapest first.
    /// </summary>
    internal static void Check(SafeFileHandle fd, long expectedSize, bool writable = true, bool exactSize = true)
    {
        uint mode;
        try
        {
            mode = Libc.Sys.Mode(fd);
        }
        catch (IOException e)
        {
            throw Refused("cannot be inspected", e);
        }

        if ((mode & Libc.Sys.S_IFMT) != Libc.Sys.S_IFREG)
        {
            throw Refused($"is {Libc.Sys.DescribeType(mode)}, not a memfd");
        }

        int access = Libc.Fcntl.GetStatusFlags(fd) & Libc.Fcntl.O_ACCMODE;
        if (access != Libc.Fcntl.O_RDWR && (writable || access != Libc.Fcntl.O_RDONLY))
        {
            throw Refused($"is open {(access == Libc.Fcntl.O_RDONLY ? "read-only" : "write-only")}; {(writable ? "a shared region is mapped read-write" : "a read-only mapping needs read access")}");
        }

        int seals;
        try
        {
            seals = Libc.Fcntl.GetSeals(fd);
        }
        catch (IOException e)
        {
            throw Refused("is a regular file, not a memfd (it has no seals)", e);
        }

        if ((seals & RequiredSeals) != RequiredSeals)
        {
            throw Refused("is not size-sealed; a peer could shrink it under our mapping");
        }

        if (writable && (seals & (Libc.Fcntl.F_SEAL_WRITE | Libc.Fcntl.F_SEAL_FUTURE_WRITE)) != 0)
        {
            throw Refused("is write-sealed; a shared region is mapped read-write");
        }

        long actual = Libc.Sys.FileSize(fd);
        if (exactSize ? actual != expectedSize : actual < expectedSize)
        {
            throw Refused($"is {actual} bytes; {(exactSize ? "" : "at least ")}{expectedSize} were expected");
        }
    }

    private static L4RtException Refused(string reason) =>
        new(L4Status.ProtocolViolation, "The descriptor passed as a shared region " + reason + ".");

    private static L4RtException Refused(string reason, Exception inner) =>
        new(L4Status.ProtocolViolation, "The descriptor passed as a shared region " + reason + ".", inner);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
        Handle.Dispose();
    }
}
