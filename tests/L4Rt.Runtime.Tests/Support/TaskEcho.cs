using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.Tests.Support;

/// <summary>
/// A gate of a task served on a thread of its own: a call's reply is MR0 + 1 (one word). It serves on after a
/// timeout, a peer's protocol violation or a departed client, until disposed.
/// </summary>
public sealed class TaskEcho : IDisposable
{
    private readonly L4Thread _thread;
    private readonly Thread _serving;

    private TaskEcho(L4Thread thread, Gate gate)
    {
        _thread = thread;
        Gate = gate;
        _serving = new Thread(Serve) { IsBackground = true, Name = "task echo" };
        _serving.Start();
    }

    public Gate Gate { get; }

    /// <summary>Creates the thread and the gate (label 1) in <paramref name="task"/>, registered as <paramref name="name"/> when given.</summary>
    public static async Task<TaskEcho> StartAsync(L4Task task, string? name = null)
    {
        L4Thread thread = await task.CreateThreadAsync();
        Gate gate = await task.Factory.CreateGateAsync(thread, 1);
        if (name is not null)
        {
            await task.Names.RegisterAsync(name, gate);
        }

        return new TaskEcho(thread, gate);
    }

    /// <summary>One call with <paramref name="word"/> in MR0 from a fresh thread; asserts it succeeded and returns the reply's MR0.</summary>
    public static ulong CallOnce(Gate gate, ulong word)
    {
        using L4Thread me = new();
        me.Utcb.Mr[0] = word;
        IpcResult r = me.Call(gate, new MsgTag(1, 1), L4Timeout.FromMilliseconds(10_000));
        Assert.Equal(L4Status.Ok, r.Status);
        return me.Utcb.Mr[0];
    }

    public void Dispose()
    {
        _thread.Dispose();
        _serving.Join(5_000);
    }

    private void Serve()
    {
        IpcResult msg = _thread.Wait(L4Timeout.Never);
        while (msg.IsOk || msg.Status is L4Status.ReceiveTimeout or L4Status.ProtocolViolation or L4Status.DestinationDeleted)
        {
            if (!msg.IsOk)
            {
                msg = _thread.Wait(L4Timeout.Never);
                continue;
            }

            _thread.Utcb.Mr[0]++;
            msg = _thread.ReplyAndWait(new MsgTag(msg.Tag.Protocol, 1), L4Timeout.Never);
        }
    }
}
