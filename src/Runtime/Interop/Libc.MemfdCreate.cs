using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static partial class Memfd
    {
        internal const uint MFD_CLOEXEC = 0x0001;
        internal const uint MFD_ALLOW_SEALING = 0x0002;

        [LibraryImport(Libraries.Libc, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int MemfdCreate(string name, uint flags);

        /// <summary>An anonymous memory file (no file-system name), close-on-exec, sealable.</summary>
        internal static SafeFileHandle Create(string name)
        {
            int fd = MemfdCreate(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
            return fd < 0 ? throw LastErrnoException("memfd_create") : new SafeFileHandle(fd, ownsHandle: true);
        }
    }
}
