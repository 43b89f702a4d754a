using Microsoft.Extensions.Logging;

namespace L4Rt.Broker;

/// <summary>The broker's log messages, with stable event ids.</summary>
internal static partial class BrokerLog
{
    [LoggerMessage(1, LogLevel.Information, "l4rtd listening on {Path} (pid {Pid}, allowed uids {Uids})")]
    internal static partial void Listening(ILogger logger, string path, int pid, string uids);

    [LoggerMessage(2, LogLevel.Information, "task {TaskId} joined: pid {Pid}, uid {Uid}, '{Name}'")]
    internal static partial void TaskJoined(ILogger logger, long taskId, int pid, uint uid, string name);

    [LoggerMessage(3, LogLevel.Information, "task {TaskId} (pid {Pid}) left; its objects, capabilities, names and quota were released")]
    internal static partial void TaskLeft(ILogger logger, long taskId, int pid);

    [LoggerMessage(4, LogLevel.Warning, "refused a connection from pid {Pid}: uid {Uid} is not allowed")]
    internal static partial void UidRefused(ILogger logger, int pid, uint uid);

    [LoggerMessage(5, LogLevel.Debug, "bad frame from pid {Pid}: {Reason}")]
    internal static partial void BadFrame(ILogger logger, int pid, string reason);

    [LoggerMessage(6, LogLevel.Warning, "disconnecting pid {Pid}: {Reason}")]
    internal static partial void Disconnecting(ILogger logger, int pid, string reason);

    [LoggerMessage(7, LogLevel.Debug, "task {TaskId} created {Kind} {ObjectId}")]
    internal static partial void ObjectCreated(ILogger logger, long taskId, string kind, long objectId);

    [LoggerMessage(8, LogLevel.Debug, "{Kind} {ObjectId} destroyed")]
    internal static partial void ObjectDestroyed(ILogger logger, string kind, long objectId);

    [LoggerMessage(9, LogLevel.Information, "name '{Name}' registered by task {TaskId}")]
    internal static partial void NameRegistered(ILogger logger, string name, long taskId);

    [LoggerMessage(10, LogLevel.Error, "internal error handling a request from pid {Pid}")]
    internal static partial void InternalError(ILogger logger, Exception exception, int pid);

    [LoggerMessage(11, LogLevel.Information, "l4rtd stopping: {Tasks} task(s) told, regions unmapped, {Path} removed")]
    internal static partial void Stopped(ILogger logger, int tasks, string path);

    [LoggerMessage(12, LogLevel.Warning, "removed a stale socket at {Path} (no broker answered)")]
    internal static partial void StaleSocket(ILogger logger, string path);

    [LoggerMessage(13, LogLevel.Error, "session of pid {Pid} failed; only that client was disconnected")]
    internal static partial void SessionFailed(ILogger logger, Exception exception, int pid);

    [LoggerMessage(14, LogLevel.Error, "reply to {Opcode} for pid {Pid} is {Length} bytes, more than a frame holds; answered with an error")]
    internal static partial void ReplyTooLarge(ILogger logger, L4Rt.Protocol.Opcode opcode, int length, int pid);

    [LoggerMessage(15, LogLevel.Warning, "refused a connection from pid {Pid}: {Reason}")]
    internal static partial void ConnectionRefused(ILogger logger, int pid, string reason);

    [LoggerMessage(16, LogLevel.Error, "accepting a connection failed; retrying in {DelayMs} ms")]
    internal static partial void AcceptFailed(ILogger logger, Exception exception, int delayMs);

    [LoggerMessage(17, LogLevel.Information, "descriptor budget: limit {Limit} (soft raised from {Soft}, hard {Hard}), {Open} open at start, {Reserved} reserved for the broker, {Available} for tasks and connections")]
    internal static partial void FdBudget(ILogger logger, ulong limit, ulong soft, ulong hard, int open, int reserved, long available);
}
