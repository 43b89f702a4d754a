using System.Text.Json;
using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>The operator CLI as a real process against a real broker.</summary>
[Collection(ProcessCollection.Name)]
public class CliTests
{
    [Fact]
    public async Task StatusNamesIrqTriggerAndCall_ShowAndDoWhatTheBrokerHolds()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync("service");
        using L4Thread thread = await task.CreateThreadAsync();
        Gate gate = await task.Factory.CreateGateAsync(thread, 1);
        Irq irq = await task.Factory.CreateIrqAsync(thread, 2);
        await task.Names.RegisterAsync("svc/echo", gate);
        await task.Names.RegisterAsync("svc/tick", irq);
        await task.Factory.CreateChannelAsync(1 << 16);

        (int code, string output) = Run(broker, "status", "--json");
        Assert.Equal(0, code);
        using JsonDocument status = JsonDocument.Parse(output);
        Assert.Contains(status.RootElement.GetProperty("tasks").EnumerateArray(), t => t.GetProperty("name").GetString() == "service");
        Assert.Equal(1, status.RootElement.GetProperty("gates").GetArrayLength());
        Assert.Equal(1, status.RootElement.GetProperty("irqs").GetArrayLength());
        Assert.Equal(65536, status.RootElement.GetProperty("channels")[0].GetProperty("capacity").GetInt64());

        (code, output) = Run(broker, "status");
        Assert.Equal(0, code);
        Assert.Contains("svc/echo", output, StringComparison.Ordinal);

        (code, output) = Run(broker, "names");
        Assert.Equal(0, code);
        Assert.Contains("svc/tick", output, StringComparison.Ordinal);

        (code, _) = Run(broker, "irq", "trigger", "svc/tick", "--count", "3");
        Assert.Equal(0, code);
        IpcResult r = thread.Wait(L4Timeout.FromMilliseconds(5000));
        Assert.Equal(SystemProtocol.Irq, r.Tag.Protocol);
        Assert.Equal(3UL, thread.Utcb.Mr[0]);

        Thread serving = CapabilityTests.StartEcho(thread, 1);
        (code, output) = Run(broker, "call", "svc/echo", "40", "2");
        serving.Join();
        Assert.Equal(0, code);
        Assert.Contains("2 word(s): 40 2", output, StringComparison.Ordinal);

        (code, output) = Run(broker, "irq", "trigger", "no-such-name");
        Assert.Equal(2, code);
        Assert.Contains("NameNotFound", output, StringComparison.Ordinal);
    }

    internal static (int Code, string Output) Run(BrokerProcess broker, params string[] args)
    {
        (int code, string stdout, string stderr) = ToolProcess.Cli([.. args, "--socket", broker.SocketPath]);
        return (code, stdout + stderr);
    }
}
