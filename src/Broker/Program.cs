using Microsoft.Extensions.Hosting;

// l4rtd — the L4Rt broker (the "kernel"). A Generic Host daemon: foreground by default, systemd-aware.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSystemd();
using IHost host = builder.Build();
await host.RunAsync();
