using System.Diagnostics;
using System.Runtime.CompilerServices;
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

    [Fact]
    public void Register_CallbackThrows_TheOthersStillRunAndTheProcessLives()
    {
        using TempDir dir = new();
        using ChildProcess child = ChildProcess.Start("receiver-script", dir.Socket(), "sleep:60000");
        child.WaitForLine("READY");
        using ManualResetEventSlim second = new();
        long failures = PeerWatch.Instance.CallbackFailures;
        PeerWatch.Instance.Register(child.Pid, static () => throw new InvalidOperationException("a buggy death callback"));
        PeerWatch.Instance.Register(child.Pid, second.Set);
        child.Kill();
        Assert.True(second.Wait(5000), "the callback after the throwing one never ran");
        Assert.Equal(failures + 1, PeerWatch.Instance.CallbackFailures);
    }

    [Fact]
    public void Unregister_BeforeTheDeath_CallbackNeverRunsAndNothingStaysRegistered()
    {
        using TempDir dir = new();
        using ChildProcess child = ChildProcess.Start("receiver-script", dir.Socket(), "sleep:60000");
        child.WaitForLine("READY");
        int unwanted = 0;
        Action gone = () => Interlocked.Increment(ref unwanted);
        using ManualResetEventSlim kept = new();
        PeerWatch.Instance.Register(child.Pid, gone);
        PeerWatch.Instance.Register(child.Pid, kept.Set);
        PeerWatch.Instance.Unregister(child.Pid, gone);
        Assert.Equal(1, PeerWatch.Instance.CallbackCount(child.Pid));
        child.Kill();
        Assert.True(kept.Wait(5000));
        Assert.Equal(0, Volatile.Read(ref unwanted));
        Assert.Equal(0, PeerWatch.Instance.CallbackCount(child.Pid));
    }

    [Fact]
    public void DirectLink_DisposedWhileThePeerLives_IsNotKeptAliveByTheWatch()
    {
        using TempDir dir = new();
        using ChildProcess child = ChildProcess.Start("receiver-script", dir.Socket(), "sleep:60000");
        child.WaitForLine("READY");
        WeakReference closed = ConnectAndDispose(dir.Socket());
        for (int i = 0; i < 3 && closed.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(closed.IsAlive, "a disposed link stays reachable through the peer watch");
        Assert.Equal(0, PeerWatch.Instance.CallbackCount(child.Pid));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ConnectAndDispose(string socket)
    {
        SendLink link = DirectLink.Connect(socket, TimeSpan.FromSeconds(20));
        link.Dispose();
        return new WeakReference(link);
    }
}
