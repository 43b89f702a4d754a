using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace L4Rt.Hosting;

/// <summary>Broker connectivity: healthy while the host's task is connected and the broker answers.</summary>
public sealed class L4RtHealthCheck(L4RtConnection connection) : IHealthCheck
{
    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(connection.IsConnected
            ? HealthCheckResult.Healthy($"connected to the broker as task {connection.Task.Id}")
            : HealthCheckResult.Unhealthy("not connected to the broker (not started yet, or the broker was lost)"));
}
