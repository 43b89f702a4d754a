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
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        SafeFileHandle fd = Libc.Memfd.Create(name);
        try
        {
            Libc.Sys.FTruncate(fd, size);
            Libc.Fcntl.AddSeals(fd, RequiredSeals | Libc.Fcntl.F_SEAL_SEAL);
            return new SharedRegion(fd, size);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Maps a region received from another process. The descriptor must be a size-sealed memfd of exactly
    /// <paramref name="expectedSize"/> bytes; anything else is a protocol violation by the sender.
    /// Takes ownership of <paramref name="fd"/>.
    /// </summary>
    internal static SharedRegion Attach(SafeFileHandle fd, long expectedSize)
    {
        try
        {
            int seals;
            try
            {
                seals = Libc.Fcntl.GetSeals(fd);
            }
            catch (IOException e)
            {
                throw new L4RtException(L4Status.ProtocolViolation, "The descriptor passed as a shared region is not a memfd.", e);
            }

            if ((seals & RequiredSeals) != RequiredSeals)
            {
                throw new L4RtException(L4Status.ProtocolViolation, "The shared region passed is not size-sealed; a peer could shrink it under our mapping.");
            }

            long actual = Libc.Sys.FileSize(fd);
            if (actual != expectedSize)
            {
                throw new L4RtException(L4Status.ProtocolViolation, $"The shared region passed is {actual} bytes; {expectedSize} were expected.");
            }

            return new SharedRegion(fd, expectedSize);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

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
