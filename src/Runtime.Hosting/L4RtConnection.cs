using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace L4Rt.Hosting;

/// <summary>
/// The host's task: connected while the host starts (retrying with backoff while no broker runs, with one log
/// line saying so), left when the host stops. Registered first by <see cref="L4RtServiceCollectionExtensions.AddL4Rt(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{L4RtOptions})"/>,
/// so hosted services registered after it find <see cref="Task"/> connected in their own start.
/// </summary>
public sealed partial class L4RtConnection(IOptions<L4RtOptions> options, ILogger<L4RtConnection> logger) : IHostedService, IAsyncDisposable
{
    private readonly L4RtOptions _options = options.Value;
    private L4Task? _task;

    /// <summary>The connected task; throws <see cref="InvalidOperationException"/> before the host has started.</summary>
    public L4Task Task => _task ?? throw new InvalidOperationException("The L4Rt task is not connected yet: it connects when the host starts (resolve it from a hosted service's StartAsync or later).");

    /// <summary>Whether the task is connected and the broker still answers.</summary>
    public bool IsConnected => _task is { IsBrokerLost: false };

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        string[] problems = [.. _options.Problems()];
        if (problems.Length > 0)
        {
            throw new OptionsValidationException(nameof(L4RtOptions), typeof(L4RtOptions), problems);
        }

        using CancellationTokenSource limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_options.ConnectTimeout is { } timeout)
        {
            limit.CancelAfter(timeout);
        }

        TimeSpan delay = _options.RetryDelay;
        bool said = false;
        while (true)
        {
            try
            {
                _task = await L4Task.ConnectAsync(new L4TaskOptions { SocketPath = _options.SocketPath, Name = _options.Name }, limit.Token).ConfigureAwait(false);
                _task.BrokerLost += () => LogBrokerLost(logger, _options.SocketPath);
                LogConnected(logger, _options.SocketPath, _task.Id);
                return;
            }
            catch (L4RtException e) when (e.Status == L4Status.BrokerLost)
            {
                if (!said)
                {
                    LogWaitingForBroker(logger, _options.SocketPath, e.Message);
                    said = true;
                }
            }

            try
            {
                await System.Threading.Tasks.Task.Delay(delay, limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new L4RtException(L4Status.BrokerLost, $"no broker answered at {_options.SocketPath} within {_options.ConnectTimeout}");
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
        }
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _task?.Dispose(); // the broker releases everything the task held
        return System.Threading.Tasks.Task.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _task?.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(1, LogLevel.Information, "L4Rt: no broker answers at {SocketPath} yet ({Reason}); retrying with backoff until one does")]
    private static partial void LogWaitingForBroker(ILogger logger, string socketPath, string reason);

    [LoggerMessage(2, LogLevel.Information, "L4Rt: connected to the broker at {SocketPath} as task {TaskId}")]
    private static partial void LogConnected(ILogger logger, string socketPath, int taskId);

    [LoggerMessage(3, LogLevel.Error, "L4Rt: the broker at {SocketPath} was lost; blocked operations return BrokerLost")]
    private static partial void LogBrokerLost(ILogger logger, string socketPath);
}
