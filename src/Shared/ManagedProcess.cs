using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace L4Rt.Shared;

// Linked as source (not referenced) into the test project, the perf harness and the Demo: each compiles its own
// internal copy, so nothing that ships (the SDK, l4rtd) depends on it and no helper assembly is added to the build.
/// <summary>
/// A child process whose redirected stdout and stderr are read line by line on two dedicated threads and kept;
/// it can be waited for by line (<see cref="WaitForLine(string, TimeSpan)"/>) or run to its exit
/// (<see cref="RunToExit(TimeSpan)"/>), and disposing kills it and everything it started.
/// </summary>
/// <remarks>
/// Dedicated reader threads, not the async event pattern: on a 2-core machine the thread pool can be slow to inject
/// a thread, and a wait for a child's line must not depend on it. Every wait is bounded, also the wait for the
/// pipes' end after the exit: a grandchild that outlives the process (a <c>dotnet build</c> helper,
/// <c>systemd-analyze</c>) may hold the pipes open, and reading them to their end once hung a whole CI run.
/// </remarks>
internal sealed class ManagedProcess : IDisposable
{
    private const string StderrPrefix = "stderr: ";

    private static readonly TimeSpan s_reapTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly string _name;

    // Every line read so far, in the order read; guarded by itself.
    private readonly List<(bool IsStderr, string Text)> _lines = [];

    // Stdout lines no WaitForLine has taken yet; completed at stdout's end. Never disposed: a reader thread may
    // still add to it after Dispose while a lingering grandchild holds the pipe.
    private readonly BlockingCollection<string> _untaken = [];
    private readonly Thread? _stdoutReader;
    private readonly Thread? _stderrReader;
    private bool _disposed;

    private ManagedProcess(Process process, string name, bool callerReadsStdout)
    {
        _process = process;
        _name = name;
        if (process.StartInfo.RedirectStandardOutput && !callerReadsStdout)
        {
            _stdoutReader = StartReader(process.StandardOutput, isStderr: false);
        }
        else
        {
            _untaken.CompleteAdding();
        }

        if (process.StartInfo.RedirectStandardError)
        {
            _stderrReader = StartReader(process.StandardError, isStderr: true);
        }
    }

    /// <summary>The process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code; only once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>How long a wait for the exit waits on, after the exit, for the pipes' end (default 10 s).</summary>
    public TimeSpan PipeGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The process's stdin, when the start info redirects it.</summary>
    public StreamWriter StandardInput => _process.StandardInput;

    /// <summary>The process's stdout, only when it was started with <c>callerReadsStdout</c> (a binary protocol on it).</summary>
    public StreamReader StandardOutput => _stdoutReader is null
        ? _process.StandardOutput
        : throw new InvalidOperationException($"{this}: stdout is read by line here; wait for a line with WaitForLine");

    /// <summary>Every line read so far, stdout and stderr in the order read, stderr lines prefixed <c>stderr: </c>.</summary>
    public string Output => Join(includeStdout: true, includeStderr: true, StderrPrefix, terminate: false);

    /// <summary>The stdout lines read so far, each ended by <c>\n</c>.</summary>
    public string Stdout => Join(includeStdout: true, includeStderr: false, "", terminate: true);

    /// <summary>The stderr lines read so far, each ended by <c>\n</c>.</summary>
    public string Stderr => Join(includeStdout: false, includeStderr: true, "", terminate: true);

    /// <summary>
    /// Starts <paramref name="info"/>. Its redirected stdout and stderr are read by line and kept; a stream it does not
    /// redirect is inherited. With <paramref name="callerReadsStdout"/>, a redirected stdout is left to the caller
    /// (<see cref="StandardOutput"/>).
    /// </summary>
    public static ManagedProcess Start(ProcessStartInfo info, bool callerReadsStdout = false)
    {
        info.UseShellExecute = false;
        string name = info.FileName == "dotnet" && info.ArgumentList.Count > 0
            ? Path.GetFileName(info.ArgumentList[0])
            : Path.GetFileName(info.FileName);
        Process process = Process.Start(info) ?? throw new InvalidOperationException($"{name} did not start");
        return new ManagedProcess(process, name, callerReadsStdout);
    }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>, stdout and stderr read by line.</summary>
    public static ManagedProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        ProcessStartInfo info = new(fileName, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return Start(info);
    }

    /// <summary>
    /// Starts <paramref name="info"/> (see <see cref="Start(ProcessStartInfo, bool)"/>), runs it to its exit and returns
    /// its exit code and what it printed; see <see cref="RunToExit(TimeSpan)"/>.
    /// </summary>
    public static (int Code, string Stdout, string Stderr) RunToExit(ProcessStartInfo info, TimeSpan timeout)
    {
        using ManagedProcess process = Start(info);
        return process.RunToExit(timeout);
    }

    /// <summary>
    /// Waits for the exit and returns the exit code and what the process printed. The wait for the pipes' end after the
    /// exit is bounded by <see cref="PipeGrace"/>. If it does not exit within <paramref name="timeout"/>, it and
    /// its children are killed and a <see cref="TimeoutException"/> with what it printed is thrown.
    /// </summary>
    public (int Code, string Stdout, string Stderr) RunToExit(TimeSpan timeout)
    {
        if (!WaitForExit(timeout))
        {
            Kill();
            throw new TimeoutException($"{this} did not exit within {Milliseconds(timeout)} ms and was killed; it printed:\n{Output}");
        }

        return (ExitCode, Stdout, Stderr);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the exit, then up to <see cref="PipeGrace"/> for the pipes' end, so
    /// that what it printed has been read; returns whether it exited.
    /// </summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }

        long start = Stopwatch.GetTimestamp();
        _stdoutReader?.Join(PipeGrace);
        _stderrReader?.Join(Positive(PipeGrace - Stopwatch.GetElapsedTime(start)));
        return true;
    }

    /// <summary>
    /// Waits for the next stdout line that starts with <paramref name="prefix"/> (lines before it are passed over) and
    /// returns it; throws a <see cref="TimeoutException"/> with what the process printed if none comes in time or stdout ends first.
    /// </summary>
    public string WaitForLine(string prefix, TimeSpan timeout) =>
        WaitForLine(line => line.StartsWith(prefix, StringComparison.Ordinal), $"a line starting with '{prefix}'", timeout);

    /// <summary>
    /// Waits for the next stdout line that <paramref name="match"/> accepts (lines before it are passed over) and returns it;
    /// throws a <see cref="TimeoutException"/> naming <paramref name="what"/>, with what the process printed, if none comes in
    /// time or stdout ends first.
    /// </summary>
    public string WaitForLine(Func<string, bool> match, string what, TimeSpan timeout)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            TimeSpan left = timeout - Stopwatch.GetElapsedTime(start);
            string? line = null;
            if (left <= TimeSpan.Zero || !_untaken.TryTake(out line, left))
            {
                string why = _untaken.IsCompleted
                    ? $"ended its stdout ({(_process.HasExited ? $"exit code {_process.ExitCode}" : "still running")}) without printing {what}"
                    : $"did not print {what} within {Milliseconds(timeout)} ms";
                throw new TimeoutException($"{this} {why}; it printed:\n{Output}");
            }

            if (match(line))
            {
                return line;
            }
        }
    }

    /// <summary>Sends a signal by its name (<c>TERM</c>, <c>STOP</c>, <c>CONT</c>, …) through <c>kill</c>.</summary>
    public void Signal(string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, Pid.ToString(CultureInfo.InvariantCulture)]);
        if (!kill.WaitForExit(s_reapTimeout) || kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {Pid} failed");
        }
    }

    /// <summary>
    /// SIGKILL to the process and everything it started, then reaps it (bounded); returns the monotonic timestamp taken
    /// right after the kill was sent.
    /// </summary>
    public long Kill()
    {
        _process.Kill(entireProcessTree: true);
        long killedAt = Stopwatch.GetTimestamp();
        _process.WaitForExit(s_reapTimeout);
        return killedAt;
    }

    /// <summary>Kills the process and everything it started if it still runs, and releases it.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
    }

    /// <summary>The program and its pid, as messages name it.</summary>
    public override string ToString() => $"{_name} (pid {_process.Id})";

    private static TimeSpan Positive(TimeSpan span) => span > TimeSpan.Zero ? span : TimeSpan.Zero;

    private static long Milliseconds(TimeSpan span) => (long)span.TotalMilliseconds;

    private Thread StartReader(StreamReader reader, bool isStderr)
    {
        Thread thread = new(() => Read(reader, isStderr))
        {
            IsBackground = true,
            Name = $"{_name}-{_process.Id}-{(isStderr ? "stderr" : "stdout")}",
        };
        thread.Start();
        return thread;
    }

    private void Read(StreamReader reader, bool isStderr)
    {
        try
        {
            while (reader.ReadLine() is { } line)
            {
                lock (_lines)
                {
                    _lines.Add((isStderr, line));
                }

                if (!isStderr)
                {
                    _untaken.Add(line);
                }
            }

            reader.Dispose(); // at the pipe's end: nothing more to read
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // the pipe went away under the reader; what was read is kept
        }
        finally
        {
            if (!isStderr)
            {
                _untaken.CompleteAdding();
            }
        }
    }

    private string Join(bool includeStdout, bool includeStderr, string stderrPrefix, bool terminate)
    {
        StringBuilder text = new();
        bool first = true;
        lock (_lines)
        {
            foreach ((bool isStderr, string line) in _lines)
            {
                if (isStderr ? !includeStderr : !includeStdout)
                {
                    continue;
                }

                if (!first && !terminate)
                {
                    text.Append('\n');
                }

                first = false;

                text.Append(isStderr ? stderrPrefix : "").Append(line);
                if (terminate)
                {
                    text.Append('\n');
                }
            }
        }

        return text.ToString();
    }
}
