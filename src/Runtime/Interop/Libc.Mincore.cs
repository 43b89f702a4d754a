using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>mincore(2): whether a page of a shared file mapping is in the file's page cache (supplied).</summary>
    internal static unsafe partial class Mincore
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "mincore", SetLastError = true)]
        private static partial int MincoreNative(void* address, nuint length, byte* vector);

        /// <summary>
        /// True when the page at <paramref name="page"/> (page-aligned) is resident: for a memfd mapping, when the file
        /// has that page, whoever placed it. Never faults the page in.
        /// </summary>
        internal static bool IsResident(byte* page, long pageSize)
        {
            byte vector = 0;
            return MincoreNative(page, (nuint)pageSize, &vector) == 0 && (vector & 1) != 0;
        }
    }
}
