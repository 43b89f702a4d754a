using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static partial class Process
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "getppid")]
        internal static partial int GetParentPid();
    }
}
