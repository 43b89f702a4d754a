using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>mmap(2)/munmap(2): dataspace mappings whose protection is the holder's rights.</summary>
    internal static unsafe partial class Mmap
    {
        internal const int PROT_NONE = 0x0;
        internal const int PROT_READ = 0x1;
        internal const int PROT_WRITE = 0x2;
        internal const int MAP_SHARED = 0x01;
        internal const int MAP_PRIVATE = 0x02;
        internal const int MAP_FIXED = 0x10;
        internal const int MAP_ANONYMOUS = 0x20;
        internal const int MAP_NORESERVE = 0x4000;

        [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
        private static partial nint MmapNative(nint address, nuint length, int prot, int flags, int fd, long offset);

        [LibraryImport(Libraries.Libc, EntryPoint = "munmap", SetLastError = true)]
        private static partial int MunmapNative(nint address, nuint length);

        private static readonly nint s_failed = -1;

        /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> shared, with <paramref name="prot"/>.</summary>
        internal static byte* MapShared(SafeHandle fd, long length, int prot) => Map(fd, length, prot, MAP_SHARED);

        /// <summary>
        /// Maps <paramref name="length"/> bytes of <paramref name="fd"/> private, with <paramref name="prot"/>: pages not
        /// written through it are the file's own (a read-only view sees the file as it is now). userfaultfd registers only
        /// mappings that may be made writable, which a shared mapping of a read-only descriptor never may; a private one may
        /// (a write would copy the page privately), so a read-only paged mapping is made this way.
        /// </summary>
        internal static byte* MapPrivate(SafeHandle fd, long length, int prot) => Map(fd, length, prot, MAP_PRIVATE);

        private static byte* Map(SafeHandle fd, long length, int prot, int flags)
        {
            bool added = false;
            fd.DangerousAddRef(ref added);
            try
            {
                nint address = MmapNative(0, (nuint)length, prot, flags, (int)fd.DangerousGetHandle(), 0);
                return address == s_failed ? throw LastErrnoException("mmap") : (byte*)address;
            }
            finally
            {
                fd.DangerousRelease();
            }
        }

        /// <summary>
        /// Replaces the pages at <paramref name="address"/> in place by private zero pages (MAP_FIXED: one atomic
        /// swap of the range): whoever still touches the old range reads zeros and writes into scratch, never faults.
        /// </summary>
        internal static void ReplaceWithZeroPages(byte* address, long length)
        {
            nint result = MmapNative((nint)address, (nuint)length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            if (result == s_failed)
            {
                throw LastErrnoException("mmap(MAP_FIXED)");
            }
        }

        /// <summary>Reserves <paramref name="length"/> bytes of address space with no access (PROT_NONE, no memory behind it).</summary>
        internal static byte* Reserve(long length)
        {
            nint address = MmapNative(0, (nuint)length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            return address == s_failed ? throw LastErrnoException("mmap(PROT_NONE)") : (byte*)address;
        }

        /// <summary>Gives a range back to its reservation: no access, no memory (MAP_FIXED over the same addresses).</summary>
        internal static void Unreserve(byte* address, long length)
        {
            if (MmapNative((nint)address, (nuint)length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == s_failed)
            {
                throw LastErrnoException("mmap(MAP_FIXED, PROT_NONE)");
            }
        }

        /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> from <paramref name="offset"/> shared at <paramref name="address"/> (inside a reservation).</summary>
        internal static void MapSharedAt(byte* address, SafeHandle fd, long offset, long length, int prot)
        {
            bool added = false;
            fd.DangerousAddRef(ref added);
            try
            {
                if (MmapNative((nint)address, (nuint)length, prot, MAP_SHARED | MAP_FIXED, (int)fd.DangerousGetHandle(), offset) == s_failed)
                {
                    throw LastErrnoException("mmap(MAP_FIXED)");
                }
            }
            finally
            {
                fd.DangerousRelease();
            }
        }

        internal static void Unmap(byte* address, long length)
        {
            if (MunmapNative((nint)address, (nuint)length) != 0)
            {
                throw LastErrnoException("munmap");
            }
        }
    }
}
