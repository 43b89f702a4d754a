using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Interop;

/// <summary>Owns one file descriptor (socket, pidfd); closes it exactly once.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    public SafeFdHandle()
        : base(-1, ownsHandle: true)
    {
    }

    public SafeFdHandle(int fd, bool ownsHandle = true)
        : base(-1, ownsHandle) => SetHandle(fd);

    public override bool IsInvalid => (int)handle < 0;

    internal int Fd => (int)handle;

    /// <summary>Moves the descriptor into a <see cref="SafeFileHandle"/> (for mapping it); this handle is left invalid.</summary>
    internal SafeFileHandle ToFileHandle()
    {
        int raw = Fd;
        SetHandleAsInvalid(); // ownership moves to the SafeFileHandle
        return new SafeFileHandle(raw, ownsHandle: true);
    }

    protected override bool ReleaseHandle() => Libc.Sys.Close((int)handle) == 0;
}
