using L4Rt.Hosting;
using L4Rt.Ipc;
using L4Rt.Contracts;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.TestChild;
using L4Rt.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace L4Rt.Tests.Contracts;

/// <summary>Generated handlers in the Generic Host (Add…Server): capability arguments get their receive buffers, faults and states work as in a hand-written loop.</summary>
[Collection(ProcessCollection.Name)]
public class ContractHostingTests
{
    [Fact]
    public async Task GeneratedRegistration_ServesInTheHost_CapabilitiesFaultsAndStates()
    {
        using BrokerProcess broker = new();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddL4Rt(o => (o.SocketPath, o.Name) = (broker.SocketPath, "hosted-contracts"));
        builder.Services.AddCalculatorServer<CalculatorService>("contracts/hosted-calc", o => o.Label = 3);
        builder.Services.AddFileSessionServer<FileSessionService>("contracts/hosted-file");
        using IHost host = builder.Build();
        await host.StartAsync();
        try
        {
            await using L4Task client = await broker.ConnectAsync("client");
            Gate calcGate = await client.Names.QueryAsync<Gate>("contracts/hosted-calc", TimeSpan.FromSeconds(10));
            Gate fileGate = await client.Names.QueryAsync<Gate>("contracts/hosted-file", TimeSpan.FromSeconds(10));
            using L4Thread me = new();
            CalculatorClient calc = new(me, calcGate, L4Timeout.FromMilliseconds(10_000));
            FileSessionClient file = new(me, fileGate, L4Timeout.FromMilliseconds(10_000));

            Assert.Equal(7, calc.Add(3, 4));
            Assert.Same(host.Services.GetRequiredService<CalculatorService>(), host.Services.GetRequiredService<CalculatorService>());
            Assert.Equal("Gate/Send, Map/1", calc.Describe(fileGate, 1)); // the hosted thread had its receive buffer set up
            Assert.Equal(L4Status.ServerFault, calc.TryFail()); // the host logs the handler's exception and answers a fault
            Dataspace dataspace = await client.Factory.CreateDataspaceAsync(4096);
            Assert.Equal((4096L << 32) + 1, calc.Checksum(new Flexpage(dataspace, 0, 4096, CapRights.Read), 1)); // the handler made a receive window
            Assert.Equal(L4Status.OutOfState, file.TryRead(1, out _));
            Assert.Equal(20, file.Open("ab"));
            Assert.Equal(1, file.Read(1));
        }
        finally
        {
            await host.StopAsync(TimeSpan.FromSeconds(10));
        }
    }
}
