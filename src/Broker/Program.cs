using L4Rt.Broker;
using L4Rt.Broker.Kernel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// l4rtd — the L4Rt broker, the "kernel": tasks, capability spaces, factories with quotas, gates, IRQs,
// the name service. A Generic Host daemon: foreground by default; under systemd (Type=notify) it reports
// readiness and stops cleanly on SIGTERM. Settings: appsettings.json, L4RT_* environment variables,
// command line (--SocketPath PATH, --AllowedUids:0 UID, --TaskQuotaBytes N, ...).
HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});
builder.Configuration.AddEnvironmentVariables("L4RT_");
builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--socket"] = "SocketPath" });
builder.Services.AddSystemd();
builder.Services.Configure<BrokerOptions>(builder.Configuration);
builder.Services.AddMetrics();
builder.Services.AddSingleton<BrokerMetrics>();
builder.Services.AddSingleton<FdBudget>();
builder.Services.AddSingleton<BrokerKernel>();
builder.Services.AddHostedService<BrokerService>();
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
using IHost host = builder.Build();
try
{
    await host.RunAsync();
    return 0;
}
catch (InvalidOperationException e)
{
    // Configuration or socket problems (a live broker on the path, a directory owned by someone else).
    Console.Error.WriteLine($"l4rtd: {e.Message}");
    return 1;
}
