using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

[Collection(ProcessCollection.Name)]
public class BrokerSmokeTests
{
    [Fact]
    public async Task TwoTasks_GateThroughNameService_CallCarriesLabelToReceiverOnly()
    {
        using BrokerProcess broker = new();
        await using L4Task serverTask = await broker.ConnectAsync("server");
        await using L4Task clientTask = await broker.ConnectAsync("client");
        using L4Thread server = await serverTask.CreateThreadAsync();
        Gate gate = await serverTask.Factory.CreateGateAsync(server, label: 0x1234_5678_9ABC);
        await serverTask.Names.RegisterAsync("echo", gate);

        Gate echo = await clientTask.Names.QueryAsync<Gate>("echo", TimeSpan.FromSeconds(5));
        Assert.Equal(CapRights.Send | CapRights.Map, echo.Rights);

        Thread serving = new(() =>
        {
            IpcResult msg = server.Wait(L4Timeout.FromMilliseconds(10_000));
            while (msg.IsOk)
            {
                server.Utcb.Mr[0] = msg.Label;
                msg = server.ReplyAndWait(new MsgTag(1, 1), L4Timeout.FromMilliseconds(2_000));
            }
        });
        serving.Start();

        using L4Thread me = new();
        for (int i = 0; i < 100; i++)
        {
            IpcResult r = me.Call(echo, new MsgTag(1, 1), L4Timeout.FromMilliseconds(5_000));
            Assert.Equal(L4Status.Ok, r.Status);
            Assert.Equal(0UL, r.Label); // the caller never learns the gate's label
            Assert.Equal(0x1234_5678_9ABCUL, me.Utcb.Mr[0]); // the receiver did, through its own private table
        }

        serving.Join();
    }
}
