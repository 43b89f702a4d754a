using System.ComponentModel;
using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>errno values the runtime reacts to (Linux, identical on x86_64 and arm64).</summary>
    internal static class Errno
    {
        internal const int ENOENT = 2;
        internal const int ESRCH = 3;
        internal const int EINTR = 4;
        internal const int EBADF = 9;
        internal const int EAGAIN = 11;
        internal const int EEXIST = 17;
        internal const int ENOSYS = 38;
        internal const int EPERM = 1;
        internal const int EFAULT = 14;
        internal const int EINVAL = 22;
        internal const int EPIPE = 32;
        internal const int ECONNRESET = 104;
        internal const int ETIMEDOUT = 110;
        internal const int ECONNREFUSED = 111;
    }

    /// <summary>The one place errno becomes an exception.</summary>
    internal static Exception ErrnoException(string call, int errno) =>
        new IOException($"{call} failed: {new Win32Exception(errno).Message} (errno {errno})", errno);

    /// <summary>Throws for the last P/Invoke error of <paramref name="call"/>.</summary>
    internal static Exception LastErrnoException(string call) => ErrnoException(call, Marshal.GetLastPInvokeError());
}
