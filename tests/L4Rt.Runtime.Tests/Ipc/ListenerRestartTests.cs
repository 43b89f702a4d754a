using L4Rt.Channels;
using L4Rt.Ipc;
using L4Rt.Tests.Support;

namespace L4Rt.Tests.Ipc;

/// <summary>
/// Direct listeners survive a crash of the process that listened before: the socket file a SIGKILLed listener
/// leaves behind is replaced, a live listener on the path is refused and keeps working.
/// </summary>
[Collection(ProcessCollection.Name)]
public class ListenerRestartTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task LinkListen_AfterTheListeningProcessWasKilled_ReplacesTheStaleSocketAndLinks()
    {
        using TempDir dir = new();
        string path = dir.Socket();
        KillListeningChild("link", path);

        using DirectLinkListener listener = DirectLinkListener.Listen(path);
        using L4Thread server = new();
        Task<ReceiveLink> accepting = Task.Run(() => listener.Accept(server, 41, s_timeout));
        using SendLink link = DirectLink.Connect(path, s_timeout);
        using ReceiveLink received = await accepting;
        using L4Thread client = new();
        client.Utcb.Mr[0] = 99;
        Task<IpcResult> sending = Task.Run(() => client.Send(link, new MsgTag(1, words: 1), L4Timeout.FromMilliseconds(20_000)));
        IpcResult msg = server.Wait(L4Timeout.FromMilliseconds(20_000));
        Assert.Equal(L4Status.Ok, msg.Status);
        Assert.Equal(41UL, msg.Label);
        Assert.Equal(99UL, server.Utcb.Mr[0]);
        Assert.Equal(L4Status.Ok, (await sending).Status);
    }

    [Fact]
    public async Task ChannelListen_AfterTheListeningProcessWasKilled_ReplacesTheStaleSocketAndCarriesRecords()
    {
        using TempDir dir = new();
        string path = dir.Socket();
        KillListeningChild("channel", path);

        using DirectChannelListener listener = DirectChannelListener.Listen(path);
        Task<ChannelProducer> connecting = Task.Run(() => DirectChannel.ConnectProducer(path, s_timeout));
        using ChannelConsumer consumer = listener.AcceptAsConsumer(4096, s_timeout);
        using ChannelProducer producer = await connecting;
        Assert.Equal(L4Status.Ok, producer.Write([1, 2, 3], L4Timeout.FromMilliseconds(20_000)));
        Assert.Equal(L4Status.Ok, consumer.Read(L4Timeout.FromMilliseconds(20_000), out ReadOnlySpan<byte> record));
        Assert.Equal([1, 2, 3], record.ToArray());
    }

    [Theory]
    [InlineData("link")]
    [InlineData("channel")]
    public void Listen_WhileAnotherProcessListens_RefusesNamingThatProcess(string kind)
    {
        using TempDir dir = new();
        string path = dir.Socket();
        using ChildProcess child = ChildProcess.Start("listen-hang", kind, path);
        child.WaitForLine("READY");

        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => Listen(kind, path));
        Assert.Contains("is live on", e.Message, StringComparison.Ordinal);
        Assert.Contains($"pid {child.Pid}", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(path), "the live listener's socket must stay");
    }

    [Fact]
    public async Task LinkAccept_AfterARefusedListenProbedIt_SkipsTheProbeAndLinksTheNextSender()
    {
        using TempDir dir = new();
        string path = dir.Socket();
        using DirectLinkListener live = DirectLinkListener.Listen(path);
        Assert.Throws<InvalidOperationException>(() => DirectLinkListener.Listen(path)); // its probe is queued first

        using L4Thread server = new();
        Task<ReceiveLink> accepting = Task.Run(() => live.Accept(server, 5, s_timeout));
        using SendLink link = DirectLink.Connect(path, s_timeout);
        using ReceiveLink received = await accepting;
        Assert.Equal(5UL, received.Label);
    }

    [Fact]
    public async Task ChannelAccept_AfterARefusedListenProbedIt_SkipsTheProbeAndHandsOverTheRing()
    {
        using TempDir dir = new();
        string path = dir.Socket();
        using DirectChannelListener live = DirectChannelListener.Listen(path);
        Assert.Throws<InvalidOperationException>(() => DirectChannelListener.Listen(path));

        Task<ChannelConsumer> connecting = Task.Run(() => DirectChannel.ConnectConsumer(path, s_timeout));
        using ChannelProducer producer = live.AcceptAsProducer(4096, s_timeout);
        using ChannelConsumer consumer = await connecting;
        Assert.Equal(4096, consumer.Capacity);
    }

    [Fact]
    public void Listen_OnAPathThatIsNoSocket_RefusesAndLeavesTheFile()
    {
        using TempDir dir = new();
        string path = dir.Socket();
        File.WriteAllText(path, "not a socket");
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => DirectLinkListener.Listen(path));
        Assert.Contains("a regular file", e.Message, StringComparison.Ordinal);
        Assert.Equal("not a socket", File.ReadAllText(path));
    }

    private static IDisposable Listen(string kind, string path) =>
        kind == "link" ? DirectLinkListener.Listen(path) : DirectChannelListener.Listen(path);

    /// <summary>Starts a child listening on <paramref name="path"/>, SIGKILLs it, and checks it left its socket file behind.</summary>
    private static void KillListeningChild(string kind, string path)
    {
        using ChildProcess child = ChildProcess.Start("listen-hang", kind, path);
        child.WaitForLine("READY");
        child.Kill();
        Assert.True(File.Exists(path), "a SIGKILLed listener leaves its socket file behind (the case under test)");
    }
}
