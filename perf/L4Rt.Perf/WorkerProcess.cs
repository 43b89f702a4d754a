using System.Diagnostics;
using L4Rt.Shared;

namespace L4Rt.Perf;

/// <summary>A worker child process (this executable in worker mode); disposing kills it.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly ManagedProcess _process;

    private WorkerProcess(ManagedProcess process) => _process = process;

    /// <summary>The worker's stdin/stdout (the anonymous-pipe baseline talks through them).</summary>
    internal Stream Input => _process.StandardInput.BaseStream;

    internal Stream Output => _process.StandardOutput.BaseStream;

    /// <summary>The next line the worker printed (after READY).</summary>
    internal string? ReadLine() => _process.StandardOutput.ReadLine();

    internal static WorkerProcess Start(params string[] args)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        ProcessStartInfo info = new(self) { RedirectStandardOutput = true, RedirectStandardInput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(WorkerProcess).Assembly.Location);
        }

        info.ArgumentList.Add("worker");
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // stdout is the worker's to talk through (read here, not by line); its stderr goes to ours.
        WorkerProcess worker = new(ManagedProcess.Start(info, callerReadsStdout: true));
        string? first = worker.ReadLine();
        if (first != "READY")
        {
            worker.Dispose();
            throw new InvalidOperationException($"worker {string.Join(' ', args)} failed to start: {first}");
        }

        return worker;
    }

    public void Dispose() => _process.Dispose();
}
