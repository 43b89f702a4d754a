using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace L4Rt.Tests.Support;

/// <summary>
/// Waits on state, not on time: a test that means to exercise a wake-up path first waits until the shared flag (or
/// the kernel) says the other side sleeps, so it cannot pass through the early-check path instead.
/// </summary>
public static class Await
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test naming <paramref name="what"/> after <paramref name="timeoutMs"/>.</summary>
    public static void Until(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        Stopwatch clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.ElapsedMilliseconds < timeoutMs, $"waited {timeoutMs} ms for: {what}");
            Thread.Yield();
        }
    }

    /// <summary>The kernel's id of the calling OS thread (from /proc/thread-self).</summary>
    public static int CurrentThreadId() =>
        int.Parse(Path.GetFileName(new FileInfo("/proc/thread-self").LinkTarget!), CultureInfo.InvariantCulture);

    /// <summary>Whether thread <paramref name="tid"/> of this process is blocked in futex() on <paramref name="address"/> right now.</summary>
    public static bool IsInFutexWait(int tid, nint address)
    {
        // "nr arg1 arg2 ...": the syscall the thread is blocked in and its arguments (arg1 is the futex word).
        string[] fields = File.ReadAllText($"/proc/self/task/{tid}/syscall").Split(' ');
        int futex = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 98 : 202;
        return fields.Length > 1 && fields[0] == futex.ToString(CultureInfo.InvariantCulture)
            && long.Parse(fields[1].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) == address;
    }
}
