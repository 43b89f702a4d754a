using L4Rt.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace L4Rt.Broker;

/// <summary>
/// The descriptors the broker may hold for tasks and their connections. At start the soft RLIMIT_NOFILE is
/// raised to the hard limit; the budget is that limit minus what was open at start minus
/// <see cref="BrokerOptions.ReservedFds"/> (kept for the broker's own work: loading code, logging, accepting).
/// Every connection and every descriptor-holding object takes from it first, so no client can run the
/// broker out of descriptors: it gets <see cref="L4Status.QuotaExceeded"/> or a refused connection instead.
/// </summary>
internal sealed class FdBudget
{
    private long _inUse;

    public FdBudget(IOptions<BrokerOptions> options, ILogger<FdBudget> log)
    {
        (ulong soft, ulong hard) = Libc.Rlimit.OpenFiles();
        ulong limit;
        try
        {
            limit = Libc.Rlimit.RaiseOpenFilesToHard();
        }
        catch (IOException)
        {
            limit = soft; // not allowed to raise it (a seccomp or container policy): live within the soft limit
        }

        int open = OpenNow();
        Reserved = Math.Max(16, options.Value.ReservedFds);
        Available = Math.Max(0, (long)Math.Min(limit, int.MaxValue) - open - Reserved);
        Limit = limit;
        BrokerLog.FdBudget(log, limit, soft, hard, open, Reserved, Available);
    }

    /// <summary>The broker's RLIMIT_NOFILE after raising it.</summary>
    internal ulong Limit { get; }

    internal int Reserved { get; }

    /// <summary>Descriptors tasks and connections may hold in all.</summary>
    internal long Available { get; }

    internal long InUse => Interlocked.Read(ref _inUse);

    /// <summary>Takes <paramref name="count"/> descriptors from the budget; false (nothing taken) if they are not there.</summary>
    internal bool TryTake(int count)
    {
        long current = Interlocked.Read(ref _inUse);
        while (true)
        {
            if (current + count > Available)
            {
                return false;
            }

            long seen = Interlocked.CompareExchange(ref _inUse, current + count, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    internal void Give(int count) => Interlocked.Add(ref _inUse, -count);

    /// <summary>Descriptors this process has open right now.</summary>
    internal static int OpenNow() => Directory.GetFiles("/proc/self/fd").Length - 1; // minus the one enumerating
}
