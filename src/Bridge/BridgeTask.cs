using L4Rt.Hosting;

namespace L4Rt.Bridge;

/// <summary>
/// The bridge's task at the local broker (connected by the hosting integration as the host starts). Without its
/// broker a bridge has nothing to bridge: losing it stops the bridge with exit code 1, and its supervisor restarts it.
/// </summary>
internal sealed partial class BridgeTask(L4RtConnection connection, IHostApplicationLifetime lifetime, ILogger<BridgeTask> logger) : IHostedService
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
        return System.Threading.Tasks.Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => System.Threading.Tasks.Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Error, Message = "the local broker is gone: the bridge stops")]
    private static partial void LogBrokerLost(ILogger logger);
}
