using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>getrlimit(2)/setrlimit(2) for RLIMIT_NOFILE: the broker's descriptor budget.</summary>
    internal static unsafe partial class Rlimit
    {
        private const int RLIMIT_NOFILE = 7; // x86_64 and arm64

        [StructLayout(LayoutKind.Sequential)]
        private struct RLimit
        {
            internal ulong Current;
            internal ulong Maximum;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "getrlimit", SetLastError = true)]
        private static partial int GetRLimit(int resource, RLimit* limit);

        [LibraryImport(Libraries.Libc, EntryPoint = "setrlimit", SetLastError = true)]
        private static partial int SetRLimit(int resource, RLimit* limit);

        /// <summary>The soft and hard limit on open descriptors.</summary>
        internal static (ulong Soft, ulong Hard) OpenFiles()
        {
            RLimit limit;
            return GetRLimit(RLIMIT_NOFILE, &limit) == 0 ? (limit.Current, limit.Maximum) : throw LastErrnoException("getrlimit(RLIMIT_NOFILE)");
        }

        /// <summary>Raises the soft limit on open descriptors to the hard limit; returns the new soft limit.</summary>
        internal static ulong RaiseOpenFilesToHard()
        {
            RLimit limit;
            if (GetRLimit(RLIMIT_NOFILE, &limit) != 0)
            {
                throw LastErrnoException("getrlimit(RLIMIT_NOFILE)");
            }

            if (limit.Current < limit.Maximum)
            {
                RLimit raised = new() { Current = limit.Maximum, Maximum = limit.Maximum };
                if (SetRLimit(RLIMIT_NOFILE, &raised) != 0)
                {
                    throw LastErrnoException("setrlimit(RLIMIT_NOFILE)");
                }

                return raised.Current;
            }

            return limit.Current;
        }
    }
}
