using System.Diagnostics;
using System.Globalization;
using L4Rt.Shared;

namespace L4Rt.Perf;

/// <summary>The real l4rtd on a private socket for the scenarios that need a broker; disposing stops it.</summary>
internal sealed class BrokerHost : IDisposable
{
    private readonly ManagedProcess _process;
    private readonly string _dir;

    internal BrokerHost(string repoRoot)
    {
        _dir = Directory.CreateTempSubdirectory("l4rt-perf-").FullName;
        SocketPath = Path.Combine(_dir, "broker.sock");
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string dll = Path.Combine(repoRoot, "src", "Broker", "bin", configuration, "net10.0", "l4rtd.dll");
        ProcessStartInfo info = new("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--SocketPath");
        info.ArgumentList.Add(SocketPath);
        info.ArgumentList.Add("--ParentPid");
        info.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__L4Rt.Broker.BrokerService"] = "Information";
        _process = ManagedProcess.Start(info);
        try
        {
            _process.WaitForLine(l => l.Contains("listening on", StringComparison.Ordinal), $"'listening on' ({dll})", TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            Dispose();
            throw;
        }
    }

    internal string SocketPath { get; }

    internal int Pid => _process.Pid;

    internal bool HasExited => _process.HasExited;

    internal Task<L4Task> ConnectAsync(string name) => L4Task.ConnectAsync(new L4TaskOptions { SocketPath = SocketPath, Name = name });

    public void Dispose()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
