using System.Diagnostics;
using L4Rt.Shared;

namespace L4Rt.Tests.Support;

/// <summary>The real l4rtd on a private socket path. Disposing kills it (SIGKILL) if it still runs.</summary>
public sealed class BrokerProcess : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly ManagedProcess _process;

    public BrokerProcess(params string[] extraArgs)
        : this(fdLimit: 0, extraArgs)
    {
    }

    /// <summary>Starts l4rtd; with <paramref name="fdLimit"/> &gt; 0, under <c>ulimit -n</c> of that many descriptors (soft and hard).</summary>
    public BrokerProcess(int fdLimit, params string[] extraArgs)
    {
        SocketPath = _dir.Socket("broker.sock");
        ProcessStartInfo info = new(fdLimit > 0 ? "bash" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
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
        _process = ManagedProcess.Start(info);
        try
        {
            _process.WaitForLine(l => l.Contains("listening on", StringComparison.Ordinal), "'listening on'", TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            Dispose();
            throw;
        }
    }

    public string SocketPath { get; }

    /// <summary>The broker's start-up line about its descriptor budget (logged at Information).</summary>
    public string? FdBudgetLine =>
        _process.Stdout.Split('\n').FirstOrDefault(l => l.Contains("descriptor budget", StringComparison.Ordinal));

    public int Pid => _process.Pid;

    public bool HasExited => _process.HasExited;

    /// <summary>Every line it printed so far, stderr lines prefixed <c>stderr: </c>.</summary>
    public string Output => _process.Output;

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

    public long Kill() => _process.Kill();

    /// <summary>SIGTERM, as systemd stops it; returns whether it exited within the timeout (and what it wrote has been read).</summary>
    public bool Terminate(int timeoutMs = 10_000)
    {
        _process.Signal("TERM");
        return _process.WaitForExit(TimeSpan.FromMilliseconds(timeoutMs));
    }

    /// <summary>SIGSTOP: the broker stops answering (its socket stays open) until <see cref="Continue"/>.</summary>
    public void Stop() => _process.Signal("STOP");

    /// <summary>SIGCONT after <see cref="Stop"/>.</summary>
    public void Continue() => _process.Signal("CONT");

    public int ExitCode => _process.ExitCode;

    public void Dispose()
    {
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
