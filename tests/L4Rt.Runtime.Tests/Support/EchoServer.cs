using L4Rt.Ipc;

namespace L4Rt.Tests.Support;

/// <summary>A child process serving calls (L4Rt.TestChild echo-server) and the sending end of a link to it.</summary>
public sealed class EchoServer : IDisposable
{
    private readonly TempDir _dir = new();

    public EchoServer(string behaviour = "echo", int replyDelayUs = 0)
    {
        Child = ChildProcess.Start("echo-server", _dir.Socket(), "1", behaviour, replyDelayUs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Child.WaitForLine("READY");
        Link = DirectLink.Connect(_dir.Socket(), TimeSpan.FromSeconds(20));
        Child.WaitForLine("LINKED");
    }

    public ChildProcess Child { get; }

    public SendLink Link { get; }

    public void Dispose()
    {
        Child.Dispose();
        Link.Dispose();
        _dir.Dispose();
    }
}
