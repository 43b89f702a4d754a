using System.Diagnostics;

namespace L4Rt.Tests.Support;

/// <summary>The real l4rtd on a private socket path. Disposing kills it (SIGKILL) if it still runs.</summary>
public sealed class BrokerProcess : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly ManualResetEventSlim _outputClosed = new();

    public BrokerProcess(params string[] extraArgs)
        : this(fdLimit: 0, extraArgs)
    {
    }

    /// <summary>Starts l4rtd; with <paramref name="fdLimit"/> &gt; 0, under <c>ulimit -n</c> of that many descriptors (soft and hard).</summary>
    public BrokerProcess(int fdLimit, params string[] extraArgs)
    {
        SocketPath = _dir.Socket("broker.sock");
        ProcessStartInfo info = new(fdLimit > 0 ? "bash" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (fdLimit > 0)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"ulimit -n {fdLimit} && exec dotnet \"$@\"");
            info.ArgumentList.Add("l4rtd");
        }

        info.ArgumentList.Add(BrokerDll);
        info.ArgumentList.Add("--SocketPath");
        info.ArgumentList.Add(SocketPath);
        info.ArgumentList.Add("--ParentPid");
        info.ArgumentList.Add(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (string arg in extraArgs)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__L4Rt.Broker.BrokerService"] = "Information";
        info.Environment["Logging__LogLevel__L4Rt.Broker.FdBudget"] = "Information";
        _process = Process.Start(info)!;
        using ManualResetEventSlim listening = new();
        Thread reader = new(() =>
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                lock (_output)
                {
                    _output.Add(line);
                }

                if (line.Contains("descriptor budget", StringComparison.Ordinal))
                {
                    FdBudgetLine = line;
                }

                if (line.Contains("listening on", StringComparison.Ordinal))
                {
                    listening.Set();
                }
            }

            _outputClosed.Set();
        }) { IsBackground = true };
        reader.Start();
        Thread errors = new(() =>
        {
            while (_process.StandardError.ReadLine() is { } line)
            {
                lock (_output)
                {
                    _output.Add("stderr: " + line);
                }
            }
        }) { IsBackground = true };
        errors.Start();
        if (!listening.Wait(TimeSpan.FromSeconds(30)))
        {
            Dispose();
            throw new TimeoutException($"l4rtd did not start listening:\n{Output}");
        }
    }

    public string SocketPath { get; }

    /// <summary>The broker's start-up line about its descriptor budget (logged at Information).</summary>
    public string? FdBudgetLine { get; private set; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public L4TaskOptions Options(string name = "test") => new() { SocketPath = SocketPath, Name = name };

    public Task<L4Task> ConnectAsync(string name = "test") => L4Task.ConnectAsync(Options(name));

    /// <summary>Open descriptors of the broker process right now.</summary>
    public int OpenFds => Directory.GetFiles($"/proc/{Pid}/fd").Length;

    /// <summary>What each open descriptor of the broker points at (for failure messages).</summary>
    public string DescribeFds()
    {
        List<string> lines = [];
        foreach (string fd in Directory.GetFiles($"/proc/{Pid}/fd"))
        {
            try
            {
                lines.Add($"{Path.GetFileName(fd)} -> {new FileInfo(fd).LinkTarget}");
            }
            catch (IOException)
            {
            }
        }

        return string.Join('\n', lines);
    }

    public long Kill()
    {
        _process.Kill(entireProcessTree: true);
        long at = Stopwatch.GetTimestamp();
        _process.WaitForExit(10_000);
        return at;
    }

    /// <summary>SIGTERM, as systemd stops it; returns whether it exited within the timeout.</summary>
    public bool Terminate(int timeoutMs = 10_000)
    {
        Process.Start("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        bool exited = _process.WaitForExit(timeoutMs);
        _outputClosed.Wait(5000); // every line it wrote has been read
        return exited;
    }

    /// <summary>SIGSTOP: the broker stops answering (its socket stays open) until <see cref="Continue"/>.</summary>
    public void Stop() => Signal("-STOP");

    /// <summary>SIGCONT after <see cref="Stop"/>.</summary>
    public void Continue() => Signal("-CONT");

    private void Signal(string signal) =>
        Process.Start("kill", [signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    public int ExitCode => _process.ExitCode;

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
        }

        _process.Dispose();
        _dir.Dispose();
    }

    private static string BrokerDll
    {
        get
        {
            DirectoryInfo here = new(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string framework = here.Name;
            string configuration = here.Parent!.Name;
            DirectoryInfo root = here.Parent!.Parent!.Parent!.Parent!.Parent!;
            string path = Path.Combine(root.FullName, "src", "Broker", "bin", configuration, framework, "l4rtd.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build src/Broker first (the test project builds it).", path);
        }
    }
}
