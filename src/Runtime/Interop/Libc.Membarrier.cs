using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>
    /// membarrier(2) with <c>MEMBARRIER_CMD_GLOBAL_EXPEDITED</c>: a full memory barrier on every CPU that is running a
    /// thread of a process registered for it (<c>MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED</c>), across processes, unlike
    /// <see cref="Interlocked.MemoryBarrierProcessWide"/>, which orders only this process's threads. No libc wrapper: the
    /// raw syscall.
    /// </summary>
    internal static partial class Membarrier
    {
        private const int MEMBARRIER_CMD_QUERY = 0;
        private const int MEMBARRIER_CMD_GLOBAL_EXPEDITED = 1 << 1;
        private const int MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 1 << 2;

        private static readonly long s_sysMembarrier = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 324,
            Architecture.Arm64 => 283,
            _ => -1,
        };

        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        private static partial long Syscall(long number, int command, uint flags, int cpu);

        /// <summary>
        /// Registers this process for global expedited barriers, if the kernel offers both commands (QUERY lists
        /// them); true when it did. Called once per process.
        /// </summary>
        internal static bool TryRegisterGlobalExpedited()
        {
            if (s_sysMembarrier < 0)
            {
                return false;
            }

            long supported = Syscall(s_sysMembarrier, MEMBARRIER_CMD_QUERY, 0, 0);
            const int needed = MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
            return supported >= 0 && (supported & needed) == needed
                && Syscall(s_sysMembarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
        }

        /// <summary>The barrier on every CPU running a registered process (about 0.4 µs here); false if the kernel refused it.</summary>
        internal static bool GlobalExpedited() => Syscall(s_sysMembarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0;
    }
}
