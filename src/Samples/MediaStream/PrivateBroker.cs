using System.Globalization;
using L4Rt.Shared;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// l4rtd on a socket in a private temporary directory, for a run that was given no broker. It exits with this
/// process however that ends (<c>--ParentPid</c>); disposing kills it and removes the directory.
/// </summary>
internal sealed class PrivateBroker : IDisposable
{
    private readonly string _directory;
    private readonly ManagedProcess _process;

    /// <summary>Starts l4rtd and waits (up to 30 s) until it listens.</summary>
    public PrivateBroker()
    {
        _directory = Directory.CreateTempSubdirectory("l4rt-mediastream-").FullName;
        SocketPath = Path.Combine(_directory, "broker.sock");
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/<framework>/
        string l4rtd = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "Broker", "bin", configuration, "net10.0", "l4rtd.dll"));
        _process = ManagedProcess.Start("dotnet", [l4rtd, "--SocketPath", SocketPath, "--ParentPid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)], new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__L4Rt.Broker.BrokerService"] = "Information",
        });
        try
        {
            _process.WaitForLine(l => l.Contains("listening on", StringComparison.Ordinal), $"'listening on' ({l4rtd})", TimeSpan.FromSeconds(30));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Where it listens.</summary>
    public string SocketPath { get; }

    /// <summary>Its process id.</summary>
    public int Pid => _process.Pid;

    /// <summary>Kills it if it still runs and removes its directory.</summary>
    public void Dispose()
    {
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
