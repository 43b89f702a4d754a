using L4Rt.Ipc;

namespace L4Rt.Shared;

// Linked as source into the micro-benchmarks and the tests (as ManagedProcess.cs is), so both measure and test
// the same in-process link setup.

/// <summary>
/// A client thread with a direct link to a server thread of this process that answers each call with what
/// <c>answer</c> returns (open wait, then reply-and-wait): the real slot protocol without process boundaries.
/// </summary>
internal sealed class LocalServer : IDisposable
{
    private readonly L4Thread _server = new();
    private readonly DirectLinkListener _listener;
    private readonly Thread _serving;

    public LocalServer(Func<L4Thread, IpcResult, MsgTag> answer)
    {
        string path = Path.Combine(Path.GetTempPath(), $"l4rt-micro-{Guid.NewGuid():N}.sock");
        _listener = DirectLinkListener.Listen(path);
        Task<SendLink> connecting = Task.Run(() => DirectLink.Connect(path, TimeSpan.FromSeconds(10)));
        _listener.Accept(_server, 1, TimeSpan.FromSeconds(10));
        Link = connecting.GetAwaiter().GetResult();
        _serving = new Thread(() =>
        {
            IpcResult msg = _server.Wait(L4Timeout.Never);
            while (msg.IsOk)
            {
                msg = _server.ReplyAndWait(answer(_server, msg), L4Timeout.Never);
            }
        }) { IsBackground = true };
        _serving.Start();
    }

    /// <summary>The calling thread.</summary>
    public L4Thread Client { get; } = new();

    /// <summary>The client's link to the server thread.</summary>
    public SendLink Link { get; }

    public void Dispose()
    {
        _server.Abort();
        _serving.Join();
        Link.Dispose();
        _listener.Dispose();
        Client.Dispose();
        _server.Dispose();
    }
}
