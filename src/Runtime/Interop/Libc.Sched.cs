using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>Which CPU this thread runs on, and its CPU affinity (the calling thread's: pid 0).</summary>
    internal static partial class Sched
    {
        /// <summary>Bytes of a cpu_set_t as glibc defines it (1,024 CPUs).</summary>
        internal const int CpuSetBytes = 128;

        /// <summary>The CPU this thread runs on now (vDSO getcpu), or -1.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "sched_getcpu")]
        internal static partial int GetCpu();

        [LibraryImport(Libraries.Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
        internal static unsafe partial int GetAffinity(int pid, nuint size, byte* mask);

        /// <summary>Sets the calling thread's affinity; the kernel moves the thread off a CPU the mask excludes before it returns.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
        internal static unsafe partial int SetAffinity(int pid, nuint size, byte* mask);
    }
}
