using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace L4Rt.Hosting;

/// <summary>Generic Host registration of L4Rt: the task, server loops and the health check.</summary>
public static class L4RtServiceCollectionExtensions
{
    /// <summary>
    /// Connects an <see cref="L4Task"/> when the host starts (see <see cref="L4RtConnection"/>) and makes it available
    /// through DI (<see cref="L4Task"/>, <see cref="L4RtConnection"/>). Call it before adding hosted services that use the task.
    /// </summary>
    public static IServiceCollection AddL4Rt(this IServiceCollection services, Action<L4RtOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<L4RtOptions> options = services.AddOptions<L4RtOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton<L4RtConnection>();
        services.AddHostedService(sp => sp.GetRequiredService<L4RtConnection>()); // once, however often AddL4Rt is called
        services.TryAddSingleton(sp => sp.GetRequiredService<L4RtConnection>().Task);
        return services;
    }

    /// <summary>As <see cref="AddL4Rt(IServiceCollection, Action{L4RtOptions})"/>, bound to a configuration section (e.g. <c>configuration.GetSection("L4Rt")</c>).</summary>
    public static IServiceCollection AddL4Rt(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<L4RtOptions>().Bind(section);
        return services.AddL4Rt();
    }

    /// <summary>
    /// Serves <paramref name="name"/> with <typeparamref name="THandler"/> (from DI, or created with its dependencies) on a
    /// dedicated thread while the host runs (see <see cref="L4RtServer{THandler}"/>). Several servers, of one handler type
    /// or many, each get their own thread and gate.
    /// </summary>
    public static IServiceCollection AddL4RtServer<THandler>(this IServiceCollection services, string name, Action<L4RtServerOptions>? configure = null)
        where THandler : IL4RtHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        L4RtServerOptions options = new() { Name = name };
        configure?.Invoke(options);
        services.AddL4Rt();
        services.AddSingleton<IHostedService>(sp => new L4RtServer<THandler>(
            sp.GetRequiredService<L4RtConnection>(),
            ActivatorUtilities.GetServiceOrCreateInstance<THandler>(sp),
            options,
            sp.GetRequiredService<ILogger<L4RtServer<THandler>>>()));
        return services;
    }

    /// <summary>Adds the broker connectivity check (<see cref="L4RtHealthCheck"/>).</summary>
    public static IHealthChecksBuilder AddL4RtBroker(this IHealthChecksBuilder builder, string name = "l4rt-broker", HealthStatus failureStatus = HealthStatus.Unhealthy)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, sp => new L4RtHealthCheck(sp.GetRequiredService<L4RtConnection>()), failureStatus, tags: null));
    }
}
