using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Shared;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>The daemon's own behaviour: who may connect, its socket file, its shutdown.</summary>
[Collection(ProcessCollection.Name)]
public class DaemonTests
{
    [Fact]
    public async Task Connect_UidNotOnAllowList_IsRefusedWithNoRights()
    {
        uint other = Libc.Process.GetUid() == 12345 ? 12346u : 12345u;
        using BrokerProcess broker = new("--AllowedUids:0", other.ToString(System.Globalization.CultureInfo.InvariantCulture));
        L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => broker.ConnectAsync());
        Assert.Equal(L4Status.NoRights, e.Status);
        Assert.Contains("may not use this broker", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_OnAPathWithALiveBroker_Refuses_ButReplacesAStaleSocket()
    {
        using BrokerProcess first = new();
        using (ManagedProcess second = StartBroker(first.SocketPath))
        {
            Assert.True(second.WaitForExit(TimeSpan.FromSeconds(30)), "a second broker on a live path must exit");
            Assert.NotEqual(0, second.ExitCode);
            Assert.Contains("another broker is live", second.Output, StringComparison.Ordinal);
        }

        first.Kill(); // leaves its socket file behind: stale
        Assert.True(File.Exists(first.SocketPath));
        using ManagedProcess third = StartBroker(first.SocketPath);
        third.WaitForLine(l => l.Contains("listening on", StringComparison.Ordinal), "'listening on'", TimeSpan.FromSeconds(30));
        Assert.Contains("stale socket", third.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_TellsClients_RemovesTheSocket_ExitsCleanly()
    {
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();
        using L4Thread receiver = await task.CreateThreadAsync();
        IpcResult result = default;
        Thread waiting = new(() => result = receiver.Wait(L4Timeout.Never));
        waiting.Start();
        Thread.Sleep(100);
        Assert.True(broker.Terminate(), "l4rtd did not exit after SIGTERM");
        Assert.True(waiting.Join(5000));
        Assert.True(result.Status is L4Status.BrokerLost or L4Status.DestinationDeleted, $"{result.Status}");
        Assert.True(broker.ExitCode == 0, $"exit code {broker.ExitCode}:\n{broker.Output}");
        Assert.False(File.Exists(broker.SocketPath), $"the socket file must be removed on shutdown:\n{broker.Output}");
        Assert.Contains("l4rtd stopping", broker.Output, StringComparison.Ordinal);
    }

    /// <summary>A broker started directly (not via BrokerProcess, which insists that it starts).</summary>
    private static ManagedProcess StartBroker(string socket) => ManagedProcess.Start(
        "dotnet",
        [Path.Combine(ToolProcess.BrokerOutput, "l4rtd.dll"), "--SocketPath", socket, "--ParentPid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
}
