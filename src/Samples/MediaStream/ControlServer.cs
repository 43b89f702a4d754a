using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// A stage's control gate: a plain server loop (open wait, reply-and-wait) on a dedicated OS thread, registered under
/// <see cref="StageNames.Control"/>. It answers <see cref="ControlOp.Start"/>, <see cref="ControlOp.Stop"/> and
/// <see cref="ControlOp.Stats"/> from the stage's <see cref="StageControl"/>; the data path never waits for it.
/// </summary>
internal sealed class ControlServer : IDisposable
{
    private readonly L4Thread _thread;
    private readonly StageControl _control;
    private readonly Thread _loop;

    private ControlServer(L4Thread thread, StageControl control)
    {
        _thread = thread;
        _control = control;
        _loop = new Thread(Serve) { IsBackground = true, Name = "mediastream-control" };
    }

    /// <summary>Creates the gate, starts serving and registers <paramref name="name"/> (the runner waits for it: a registered gate means the stage is set up).</summary>
    public static async Task<ControlServer> StartAsync(L4Task task, string name, StageControl control)
    {
        L4Thread thread = await task.CreateThreadAsync().ConfigureAwait(false);
        ControlServer server = new(thread, control);
        try
        {
            Gate gate = await task.Factory.CreateGateAsync(thread, label: 1).ConfigureAwait(false);
            server._loop.Start();
            await task.Names.RegisterAsync(name, gate, CapRights.Send).ConfigureAwait(false);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Stops the loop (a caller waiting gets Aborted or DestinationDeleted) and releases the thread.</summary>
    public void Dispose()
    {
        _thread.Abort();
        if (_loop.IsAlive)
        {
            _loop.Join(TimeSpan.FromSeconds(5));
        }

        _thread.Dispose();
    }

    private void Serve()
    {
        Operations operations = new(_control);
        IpcResult message = _thread.Wait(L4Timeout.Never);
        while (message.Status is not (L4Status.Aborted or L4Status.BrokerLost))
        {
            // The generated dispatcher checks the contract (id, version, opcode, words) and refuses anything else.
            message = message.IsOk ? _thread.ReplyAndWait(StageControlDispatcher.Dispatch(operations, _thread, message), L4Timeout.Never) : _thread.Wait(L4Timeout.Never);
        }
    }

    /// <summary>The contract's operations on the stage's shared state.</summary>
    private sealed class Operations(StageControl control) : IStageControl
    {
        public void Start() => control.Started.Set();

        public void Stop()
        {
            control.RequestStop();
            control.Started.Set(); // a stop before the start ends the stream at once
        }

        public StageStats Stats()
        {
            StageStats stats = control.Snapshot();
            if (stats.State is StageState.Done or StageState.Failed)
            {
                control.FinalTaken.Set();
            }

            return stats;
        }

        public StageStats Watch() => control.Snapshot();
    }
}
