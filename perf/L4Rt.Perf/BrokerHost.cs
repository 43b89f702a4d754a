using System.Diagnostics;
using System.Globalization;

namespace L4Rt.Perf;

/// <summary>The real l4rtd on a private socket for the scenarios that need a broker; disposing stops it.</summary>
internal sealed class BrokerHost : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    internal BrokerHost(string repoRoot)
    {
        _dir = Directory.CreateTempSubdirectory("l4rt-perf-").FullName;
        SocketPath = Path.Combine(_dir, "broker.sock");
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string dll = Path.Combine(repoRoot, "src", "Broker", "bin", configuration, "net10.0", "l4rtd.dll");
        ProcessStartInfo info = new("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--SocketPath");
        info.ArgumentList.Add(SocketPath);
        info.ArgumentList.Add("--ParentPid");
        info.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__L4Rt.Broker.BrokerService"] = "Information";
        _process = Process.Start(info) ?? throw new InvalidOperationException("l4rtd did not start");
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        while (_process.StandardOutput.ReadLine() is { } line)
        {
            if (line.Contains("listening on", StringComparison.Ordinal))
            {
                Pid = _process.Id;
                Task.Run(() => _process.StandardOutput.ReadToEnd()); // keep draining
                return;
            }
        }

        throw new InvalidOperationException($"l4rtd ({dll}) exited before listening");
    }

    internal string SocketPath { get; }

    internal int Pid { get; }

    internal Task<L4Task> ConnectAsync(string name) => L4Task.ConnectAsync(new L4TaskOptions { SocketPath = SocketPath, Name = name });

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }

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
