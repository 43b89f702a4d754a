using L4Rt.Ipc;
using L4Rt.Objects;
using L4Rt.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace L4Rt.Hosting;

/// <summary>What <see cref="L4RtServiceCollectionExtensions.AddL4RtServer{THandler}"/> serves, and how.</summary>
public sealed class L4RtServerOptions
{
    /// <summary>The name the gate is registered under once the server loop runs.</summary>
    public string Name { get; set; } = "";

    /// <summary>The gate's label (what the handler sees in <see cref="IpcResult.Label"/>).</summary>
    public ulong Label { get; set; }

    /// <summary>The rights a client querying the name gets (default send and map).</summary>
    public CapRights Rights { get; set; } = CapRights.Send | CapRights.Map;

    /// <summary>On stop: how long without a message counts as drained (default 100 ms; the host's shutdown timeout bounds the whole drain).</summary>
    public TimeSpan DrainQuiet { get; set; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>
/// A server loop on a dedicated OS thread: a thread and a gate of the host's task, open wait and reply-and-wait,
/// each message handed to <typeparamref name="THandler"/>. Start: the loop runs, then the name is registered. Stop:
/// the name is unregistered, calls that still come are served until none has come for
/// <see cref="L4RtServerOptions.DrainQuiet"/> (or the host's shutdown timeout ends it), then the gate is deleted
/// (a caller still waiting gets <see cref="L4Status.DestinationDeleted"/>) and the thread disposed.
/// </summary>
public sealed partial class L4RtServer<THandler> : IHostedService
    where THandler : IL4RtHandler
{
    private readonly L4RtConnection _connection;
    private readonly THandler _handler;
    private readonly L4RtServerOptions _options;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private L4Thread? _thread;
    private Gate? _gate;
    private volatile bool _draining;

    /// <summary>Created by the hosting integration.</summary>
    public L4RtServer(L4RtConnection connection, THandler handler, L4RtServerOptions options, ILogger<L4RtServer<THandler>> logger)
    {
        _connection = connection;
        _handler = handler;
        _options = options;
        _logger = logger;
    }

    /// <summary>Messages handled so far.</summary>
    public long Handled { get; private set; }

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        L4Task task = _connection.Task;
        _thread = await task.CreateThreadAsync(cancellationToken).ConfigureAwait(false);
        (_handler as IL4RtReceiveSetup)?.PrepareReceive(_thread, task); // its buffer registers stay set across waits
        _gate = await task.Factory.CreateGateAsync(_thread, _options.Label, cancellationToken).ConfigureAwait(false);
        new Thread(Serve) { IsBackground = true, Name = $"l4rt-server {_options.Name}" }.Start(); // ends by setting _stopped
        try
        {
            await task.Names.RegisterAsync(_options.Name, _gate, _options.Rights, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Not serving after all (the name is taken, the start was cancelled): leave nothing running.
            _thread.Abort();
            await _stopped.Task.ConfigureAwait(false);
            _thread.Dispose();
            _thread = null;
            throw;
        }

        LogServing(_logger, _options.Name);
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_thread is null || _gate is null)
        {
            return;
        }

        L4Task task = _connection.Task;
        if (!task.IsBrokerLost)
        {
            try
            {
                await task.Names.UnregisterAsync(_options.Name, cancellationToken).ConfigureAwait(false);
            }
            catch (L4RtException e)
            {
                LogStopProblem(_logger, _options.Name, e.Message);
            }
        }

        _draining = true;
        try
        {
            await _stopped.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _thread.Abort(); // the host's shutdown timeout is over: stop serving now
            await _stopped.Task.ConfigureAwait(false);
        }

        if (!task.IsBrokerLost)
        {
            try
            {
                await _gate.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (L4RtException e)
            {
                LogStopProblem(_logger, _options.Name, e.Message);
            }
        }

        _thread.Dispose();
        LogStopped(_logger, _options.Name, Handled);
    }

    private void Serve()
    {
        L4Thread thread = _thread!;
        try
        {
            IpcResult message = thread.Wait(Slice());
            while (true)
            {
                if (message.IsOk)
                {
                    message = thread.ReplyAndWait(Handle(thread, message), Slice());
                    continue;
                }

                if (message.Status is L4Status.Aborted or L4Status.BrokerLost || (message.Status == L4Status.ReceiveTimeout && _draining))
                {
                    return; // stopped, or quiet for a whole slice after the stop began: drained
                }

                if (message.Status != L4Status.ReceiveTimeout)
                {
                    LogReceiveProblem(_logger, _options.Name, message.Status);
                }

                message = thread.Wait(Slice());
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private MsgTag Handle(L4Thread thread, in IpcResult message)
    {
        Handled++;
        try
        {
            return _handler.Handle(thread, message);
        }
        catch (Exception e)
        {
            LogHandlerFailed(_logger, e, _options.Name, message.Tag.Protocol);
            return new MsgTag(SystemProtocol.Exception);
        }
    }

    /// <summary>Waits are sliced (250 ms while serving, <see cref="L4RtServerOptions.DrainQuiet"/> while draining) so the loop notices the stop; a message wakes it at once.</summary>
    private L4Timeout Slice() => _draining ? L4Timeout.FromTimeSpan(_options.DrainQuiet) : L4Timeout.FromMilliseconds(250);

    [LoggerMessage(10, LogLevel.Information, "L4Rt: serving '{Name}'")]
    private static partial void LogServing(ILogger logger, string name);

    [LoggerMessage(11, LogLevel.Information, "L4Rt: '{Name}' stopped after {Handled} messages")]
    private static partial void LogStopped(ILogger logger, string name, long handled);

    [LoggerMessage(12, LogLevel.Error, "L4Rt: the handler of '{Name}' threw on a message of protocol {Protocol}; the caller gets an Exception reply")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string name, int protocol);

    [LoggerMessage(13, LogLevel.Warning, "L4Rt: '{Name}' received {Status}; serving on")]
    private static partial void LogReceiveProblem(ILogger logger, string name, L4Status status);

    [LoggerMessage(14, LogLevel.Warning, "L4Rt: stopping '{Name}': {Problem}")]
    private static partial void LogStopProblem(ILogger logger, string name, string problem);
}
