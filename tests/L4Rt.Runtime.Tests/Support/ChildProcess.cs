using System.Collections.Concurrent;
using System.Diagnostics;

namespace L4Rt.Tests.Support;

/// <summary>
/// A real child process running the L4Rt.TestChild helper. Its stdout lines are collected for assertions;
/// disposing kills it (and anything it started) so a failing test leaves nothing behind.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly List<string> _all = [];

    private ChildProcess(Process process)
    {
        _process = process;

        // Dedicated reader threads, not the async event pattern: on a 2-core machine the thread pool can be
        // slow to inject a thread, and a test that waits for a child's line must not depend on it.
        Thread stdout = new(() =>
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                lock (_all)
                {
                    _all.Add(line);
                }

                _lines.Add(line);
            }

            _lines.CompleteAdding();
        }) { IsBackground = true, Name = $"child-{process.Id}-stdout" };
        stdout.Start();
        Thread stderr = new(() =>
        {
            while (_process.StandardError.ReadLine() is { } line)
            {
                lock (_all)
                {
                    _all.Add("stderr: " + line);
                }
            }
        }) { IsBackground = true, Name = $"child-{process.Id}-stderr" };
        stderr.Start();
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static ChildProcess Start(params string[] args)
    {
        ProcessStartInfo info = new("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(TestChildPath);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_TieredPGO"] = "0"; // quicker, steadier start for short-lived helpers
        Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start the test child");
        return new ChildProcess(process);
    }

    /// <summary>Waits for the next line starting with <paramref name="prefix"/>; fails the test on timeout or exit.</summary>
    public string WaitForLine(string prefix, int timeoutMs = 30_000)
    {
        Stopwatch clock = Stopwatch.StartNew();
        while (true)
        {
            int left = timeoutMs - (int)clock.ElapsedMilliseconds;
            string? line = null;
            bool taken = false;
            try
            {
                taken = left > 0 && _lines.TryTake(out line, left);
            }
            catch (InvalidOperationException)
            {
                // completed: the child exited
            }

            if (!taken || line is null)
            {
                throw new TimeoutException($"child {Pid} did not print '{prefix}' within {timeoutMs} ms; it printed:\n{Output}");
            }

            if (line.StartsWith("ERROR", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"child {Pid} failed: {line}\n{Output}");
            }

            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }
    }

    public string Output
    {
        get
        {
            lock (_all)
            {
                return string.Join('\n', _all);
            }
        }
    }

    public bool WaitForExit(int timeoutMs) => _process.WaitForExit(timeoutMs);

    public int ExitCode => _process.ExitCode;

    /// <summary>SIGKILL, then reap; returns the monotonic timestamp taken right after the kill was sent.</summary>
    public long Kill()
    {
        _process.Kill(entireProcessTree: true);
        long killedAt = Stopwatch.GetTimestamp();
        _process.WaitForExit(10_000);
        return killedAt;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
    }

    private static string TestChildPath
    {
        get
        {
            // tests/L4Rt.Runtime.Tests/bin/<Configuration>/net10.0/ → tests/L4Rt.TestChild/bin/<Configuration>/net10.0/
            DirectoryInfo here = new(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string framework = here.Name;
            string configuration = here.Parent!.Name;
            DirectoryInfo testsDir = here.Parent!.Parent!.Parent!.Parent!;
            string path = Path.Combine(testsDir.FullName, "L4Rt.TestChild", "bin", configuration, framework, "L4Rt.TestChild.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build tests/L4Rt.TestChild first (the test project builds it).", path);
        }
    }
}
