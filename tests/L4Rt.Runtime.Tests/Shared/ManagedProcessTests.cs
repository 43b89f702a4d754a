using System.Diagnostics;
using System.Globalization;
using L4Rt.Shared;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Shared;

/// <summary>The one process wrapper (src/Shared/ManagedProcess.cs) that tests, the perf harness and the Demo start children with.</summary>
[Collection(ProcessCollection.Name)]
public class ManagedProcessTests
{
    [Fact]
    public void WaitForLine_PrefixAfterOtherLines_ReturnsThatLine_OutputKeepsBothStreams()
    {
        using ManagedProcess process = Bash("echo one; echo oops >&2; echo 'READY 42'; sleep 30");
        Assert.Equal("READY 42", process.WaitForLine("READY", TimeSpan.FromSeconds(30)));
        Await.Until(() => process.Output.Contains("stderr: oops", StringComparison.Ordinal), "the stderr line");
        Assert.Contains("one", process.Output, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => process.StandardOutput);
    }

    [Fact]
    public void WaitForLine_NeverPrinted_ThrowsTimeoutNamingItWithTheOutputSoFar()
    {
        using ManagedProcess process = Bash("echo hello; sleep 30");
        process.WaitForLine("hello", TimeSpan.FromSeconds(30));
        TimeoutException e = Assert.Throws<TimeoutException>(() => process.WaitForLine("nope", TimeSpan.FromMilliseconds(200)));
        Assert.Contains($"(pid {process.Pid}) did not print a line starting with 'nope' within 200 ms", e.Message, StringComparison.Ordinal);
        Assert.Contains("hello", e.Message, StringComparison.Ordinal);
        Assert.False(process.HasExited);
    }

    [Fact]
    public void WaitForLine_ProcessExitsFirst_ThrowsAtOnce()
    {
        using ManagedProcess process = Bash("echo bye; exit 3");
        Stopwatch clock = Stopwatch.StartNew();
        TimeoutException e = Assert.Throws<TimeoutException>(() => process.WaitForLine("nope", TimeSpan.FromSeconds(60)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"waited {clock.Elapsed} for a process that had exited");
        Assert.Contains("ended its stdout", e.Message, StringComparison.Ordinal);
        Assert.Contains("bye", e.Message, StringComparison.Ordinal);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(3, process.ExitCode);
        process.Kill(); // harmless once it has exited
    }

    [Fact]
    public void RunToExit_ReturnsTheExitCodeAndEachStreamByLine()
    {
        (int code, string stdout, string stderr) = ManagedProcess.RunToExit(
            new ProcessStartInfo("bash", ["-c", "echo out1; echo err1 >&2; echo out2; exit 7"]) { RedirectStandardOutput = true, RedirectStandardError = true },
            TimeSpan.FromSeconds(30));
        Assert.Equal((7, "out1\nout2\n", "err1\n"), (code, stdout, stderr));
    }

    [Fact]
    public void RunToExit_Overrunning_KillsIt_AndThrowsWithTheOutputSoFar()
    {
        using ManagedProcess process = Bash("echo started; sleep 30");
        process.WaitForLine("started", TimeSpan.FromSeconds(30));
        TimeoutException e = Assert.Throws<TimeoutException>(() => process.RunToExit(TimeSpan.FromMilliseconds(200)));
        Assert.Contains("did not exit within 200 ms and was killed", e.Message, StringComparison.Ordinal);
        Assert.Contains("started", e.Message, StringComparison.Ordinal);
        Assert.True(process.HasExited);
    }

    [Fact]
    public void RunToExit_GrandchildHoldsThePipesOpen_ReturnsAfterThePipeGrace()
    {
        // The background sleep inherits stdout and stderr and outlives bash: the pipes stay open after the exit.
        using ManagedProcess process = Bash("sleep 30 & echo $!; exit 0");
        int grandchild = int.Parse(process.WaitForLine("", TimeSpan.FromSeconds(30)), CultureInfo.InvariantCulture);
        try
        {
            process.PipeGrace = TimeSpan.FromMilliseconds(300);
            Stopwatch clock = Stopwatch.StartNew();
            (int code, string stdout, _) = process.RunToExit(TimeSpan.FromSeconds(30));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"RunToExit took {clock.Elapsed}: it waited on the held pipes");
            Assert.Equal(0, code);
            Assert.Equal($"{grandchild}\n", stdout);
            Assert.True(IsAlive(grandchild), "the grandchild should still hold the pipes");
        }
        finally
        {
            KillIfAlive(grandchild); // re-parented: not in the tree any more
        }
    }

    [Fact]
    public void Kill_ProcessWithAChild_KillsBoth_AndReapsIt()
    {
        using ManagedProcess process = Bash("sleep 30 & echo $!; wait");
        int grandchild = int.Parse(process.WaitForLine("", TimeSpan.FromSeconds(30)), CultureInfo.InvariantCulture);
        try
        {
            long killedAt = process.Kill();
            Assert.True(killedAt <= Stopwatch.GetTimestamp());
            Assert.True(process.HasExited);
            Await.Until(() => !IsAlive(grandchild), "the child's own child killed too");
        }
        finally
        {
            KillIfAlive(grandchild);
        }
    }

    [Fact]
    public void Dispose_StillRunning_KillsTheProcessAndItsChildren()
    {
        ManagedProcess process = Bash("sleep 30 & echo $!; wait");
        int grandchild = int.Parse(process.WaitForLine("", TimeSpan.FromSeconds(30)), CultureInfo.InvariantCulture);
        int pid = process.Pid;
        try
        {
            process.Dispose();
            process.Dispose(); // idempotent
            Await.Until(() => !IsAlive(pid) && !IsAlive(grandchild), "the process and its child killed");
        }
        finally
        {
            KillIfAlive(grandchild);
        }
    }

    [Fact]
    public void Start_CallerReadsStdout_StdinAndStdoutAreTheCallers()
    {
        ProcessStartInfo info = new("cat") { RedirectStandardInput = true, RedirectStandardOutput = true };
        using ManagedProcess process = ManagedProcess.Start(info, callerReadsStdout: true);
        process.StandardInput.WriteLine("ping");
        process.StandardInput.Flush();
        Assert.Equal("ping", process.StandardOutput.ReadLine());
        Assert.Equal("", process.Output);
    }

    [Fact]
    public void Signal_Term_StopsAProcessThatHandlesIt()
    {
        using ManagedProcess process = Bash("trap 'echo got TERM; exit 0' TERM; echo READY; while true; do sleep 0.05; done");
        process.WaitForLine("READY", TimeSpan.FromSeconds(30));
        process.Signal("TERM");
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), process.Output);
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("got TERM", process.Stdout, StringComparison.Ordinal);
    }

    private static ManagedProcess Bash(string script) => ManagedProcess.Start("bash", ["-c", script]);

    /// <summary>Whether <paramref name="pid"/> runs (a zombie, killed and waiting for its reaper, does not).</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void KillIfAlive(int pid)
    {
        if (IsAlive(pid))
        {
            using Process orphan = Process.GetProcessById(pid);
            orphan.Kill();
        }
    }
}
