using L4Rt.Broker;
using L4Rt.Broker.Kernel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// l4rtd — the L4Rt broker, the "kernel": tasks, capability spaces, factories with quotas, gates, IRQs,
// the name service. A Generic Host daemon: foreground by default; under systemd (Type=notify) it reports
// readiness and stops cleanly on SIGTERM. Settings: appsettings.json, L4RT_* environment variables,
// command line (--SocketPath PATH, --AllowedUids:0 UID, --TaskQuotaBytes N, ...; l4rtd --help lists them).
// Exit codes: BrokerCommandLine.ExitOk (0), ExitFailed (1: start-up failed), ExitUsage (2: bad command line).
if (BrokerCommandLine.Check(args, out string answer) is int answered)
{
    (answered == BrokerCommandLine.ExitOk ? Console.Out : Console.Error).Write(answer);
    return answered;
}

HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});
builder.Configuration.AddEnvironmentVariables("L4RT_");
builder.Configuration.AddCommandLine(args, BrokerCommandLine.SwitchMappings);
// Until the host has started, a failure is reported below as one line; the host would log it first with its stack
// trace ("Hosting failed to start"). Its errors after start-up are logged as usual.
int starting = 1;
builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", level => level >= LogLevel.Warning && !(level >= LogLevel.Error && Volatile.Read(ref starting) == 1));
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
    await host.StartAsync();
}
#pragma warning disable CA1031 // every start-up failure (socket, directory, descriptors, options) ends in the same one line
catch (Exception e)
#pragma warning restore CA1031
{
    // Settings or socket problems (a value of the wrong type, a live broker on the path, a directory owned by
    // someone else). Settings are bound here and not earlier: loading the binder before the broker counts the
    // descriptors it holds at start would shrink its budget for tasks.
    Console.Error.WriteLine($"l4rtd: {(e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e).Message}");
    return BrokerCommandLine.ExitFailed;
}

Volatile.Write(ref starting, 0);
await host.WaitForShutdownAsync();
return BrokerCommandLine.ExitOk;
