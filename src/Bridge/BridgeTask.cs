using L4Rt.Hosting;
using Microsoft.Extensions.Options;

namespace L4Rt.Bridge;

/// <summary>
/// The bridge's task at the local broker (connected by the hosting integration as the host starts). Without its
/// broker a bridge has nothing to bridge: losing it stops the bridge with exit code 1, and its supervisor restarts it.
/// Its task note (shown by <c>l4rt status</c>) says what it exports to which peers and where it listens.
/// </summary>
internal sealed partial class BridgeTask(L4RtConnection connection, IOptions<BridgeOptions> options, IHostApplicationLifetime lifetime, ILogger<BridgeTask> logger) : IHostedService
{
    public L4Task Task => connection.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        connection.Task.BrokerLost += () =>
        {
            LogBrokerLost(logger);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        };
        return connection.Task.SetNoteAsync(Note(options.Value), cancellationToken);
    }

    /// <summary>The note operators see: <c>exports NAME → PEER, PEER; … (listening on ADDRESS)</c>, or <c>exports nothing</c>.</summary>
    internal static string Note(BridgeOptions options)
    {
        if (options.Exports.Count == 0)
        {
            return "exports nothing";
        }

        string exports = string.Join("; ", options.Exports.Select(e => $"{e.Name} → {string.Join(", ", e.Peers)}"));
        string note = $"exports {exports} (listening on {options.Listen})";
        return System.Text.Encoding.UTF8.GetByteCount(note) <= 4096 ? note : $"exports {options.Exports.Count} names (listening on {options.Listen}; too many to list here: see its configuration)";
    }

    public Task StopAsync(CancellationToken cancellationToken) => System.Threading.Tasks.Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Error, Message = "the local broker is gone: the bridge stops")]
    private static partial void LogBrokerLost(ILogger logger);
}
