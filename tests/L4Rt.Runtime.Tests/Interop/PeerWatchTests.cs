using System.Diagnostics;
using L4Rt.Ipc;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Interop;

public class PeerWatchTests
{
    [Fact]
    public void Register_ProcessKilled_CallbackRunsPromptly()
    {
        using TempDir dir = new();
        using ChildProcess child = ChildProcess.Start("receiver-script", dir.Socket(), "sleep:60000");
        child.WaitForLine("READY");
        using ManualResetEventSlim died = new();
        long firedAt = 0;
        PeerWatch.Instance.Register(child.Pid, () =>
        {
            firedAt = Stopwatch.GetTimestamp();
            died.Set();
        });
        long killedAt = child.Kill();
        Assert.True(died.Wait(5000));
        Assert.True(Stopwatch.GetElapsedTime(killedAt, firedAt) < TimeSpan.FromMilliseconds(100),
            $"death noticed after {Stopwatch.GetElapsedTime(killedAt, firedAt).TotalMilliseconds} ms");
    }

    [Fact]
    public void Register_PidAlreadyGone_CallbackRunsAnyway()
    {
        using ChildProcess child = ChildProcess.Start("receiver-script", "/nonexistent/dir/x.sock", "sleep:1");
        Assert.True(child.WaitForExit(30_000));
        using ManualResetEventSlim died = new();
        PeerWatch.Instance.Register(child.Pid, died.Set);
        Assert.True(died.Wait(5000));
    }
}
