using System.Diagnostics.Metrics;
using L4Rt.Broker;
using L4Rt.Broker.Kernel;
using L4Rt.Interop;
using L4Rt.Memory;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;
using Msg = L4Rt.Protocol.Messages;

namespace L4Rt.Tests.Support;

/// <summary>
/// A <see cref="BrokerKernel"/> alone, behind its port: no socket, no session, no process. Requests go in as message
/// types, replies and notifications come out through a <see cref="RecordingPort"/> per task.
/// </summary>
internal sealed class KernelHarness : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly BrokerMetrics _metrics;

    public KernelHarness(BrokerOptions options)
    {
        _metrics = new BrokerMetrics(_services.GetRequiredService<IMeterFactory>());
        IOptions<BrokerOptions> wrapped = Options.Create(options);
        Fds = new FdBudget(wrapped, NullLogger<FdBudget>.Instance);
        Kernel = new BrokerKernel(wrapped, NullLogger<BrokerKernel>.Instance, _metrics, Fds);
    }

    internal BrokerKernel Kernel { get; }

    /// <summary>The broker-wide descriptor budget the kernel draws on.</summary>
    internal FdBudget Fds { get; }

    internal Msg.Hello.Reply Join(RecordingPort port) => Ok(port, new Msg.Hello.Request(ProtocolLimits.ProtocolVersion, $"task{port.Pid}"));

    /// <summary>Sends a request that must succeed; the reply's descriptors are copies the caller owns (as SCM_RIGHTS would give).</summary>
    internal T Ok<T>(RecordingPort port, IControlRequest<T> request)
        where T : IControlMessage<T>
    {
        Reply reply = Send(port, request);
        Assert.True(reply.Status == L4Status.Ok, $"{request.Opcode}: {reply.Status}");
        FrameReader reader = new(reply.Payload is null ? [] : reply.Payload.Span);
        // Copies, as SCM_RIGHTS would give: the kernel keeps owning its descriptors. (Aliasing them made the reply's
        // owning handles close the kernel's numbers a second time when finalized — by then reused by someone else,
        // once the runtime's own signal pipe, which crashed the test host on the next SIGCHLD.)
        List<SafeFdHandle> fds = [.. (reply.Fds ?? []).Select(h => new SafeFdHandle(Libc.Sys.Duplicate((int)h.DangerousGetHandle())))];
        return T.Read(ref reader, fds);
    }

    /// <summary>Sends a request that must fail, and returns its status.</summary>
    internal L4Status Error<T>(RecordingPort port, IControlRequest<T> request)
        where T : IControlMessage<T>
    {
        L4Status status = Send(port, request).Status;
        Assert.NotEqual(L4Status.Ok, status);
        return status;
    }

    /// <summary>
    /// Sends a request whatever its outcome, for callers that look only at the reply's fields: its descriptors (copies,
    /// as in <see cref="Ok"/>; the reply's handles own what they wrap) are closed before it is returned.
    /// </summary>
    internal L4Status Try<T>(RecordingPort port, IControlRequest<T> request, out T reply)
        where T : IControlMessage<T>
    {
        Reply sent = Send(port, request);
        reply = default!;
        if (sent.Status == L4Status.Ok && !sent.Deferred)
        {
            FrameReader reader = new(sent.Payload is null ? [] : sent.Payload.Span);
            reply = T.Read(ref reader, [.. (sent.Fds ?? []).Select(h => new SafeFdHandle(Libc.Sys.Duplicate((int)h.DangerousGetHandle())))]);
            foreach (System.Runtime.InteropServices.SafeHandle fd in reply.Fds)
            {
                fd.Dispose();
            }
        }

        return sent.Status;
    }

    /// <summary>Hands the request (its descriptors passed on, as by SCM_RIGHTS) to the kernel and returns its answer.</summary>
    internal Reply Send<T>(RecordingPort port, IControlRequest<T> request)
        where T : IControlMessage<T>
    {
        Payload payload = new();
        request.Write(payload);
        List<SafeFdHandle> fds = [.. request.Fds.Select(h => new SafeFdHandle((int)h.DangerousGetHandle()))];
        foreach (System.Runtime.InteropServices.SafeHandle h in request.Fds)
        {
            h.SetHandleAsInvalid(); // passed on, as by SCM_RIGHTS
        }

        return Kernel.Handle(port, new FrameHeader(FrameKind.Request, request.Opcode, L4Status.Ok, 1, payload.Length), payload.Span, fds);
    }

    /// <summary>A second descriptor of <paramref name="doorbell"/>'s memfd, to pass to CreateThread (which takes it).</summary>
    internal static SafeFileHandle Dup(DoorbellRegion doorbell) =>
        File.OpenHandle($"/proc/self/fd/{doorbell.Handle.DangerousGetHandle()}", FileMode.Open, FileAccess.ReadWrite);

    public void Dispose()
    {
        Kernel.Dispose();
        _metrics.Dispose();
        _services.Dispose();
    }
}
