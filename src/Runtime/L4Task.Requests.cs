using L4Rt.Protocol;
using L4Rt.Protocol.Messages;

namespace L4Rt;

public sealed partial class L4Task
{
    /// <summary>
    /// A typed control call: the request's fields and descriptors go out, the broker's error (with its reason)
    /// is thrown as <see cref="L4RtException"/> naming <paramref name="operation"/>, the reply comes back typed.
    /// </summary>
    internal async Task<TReply> RequestAsync<TReply>(IControlRequest<TReply> request, string operation, CancellationToken cancellationToken = default)
        where TReply : IControlMessage<TReply>
    {
        using ControlResponse response = await CallAsync(request.Opcode, ToPayload(request), cancellationToken, request.Fds).ConfigureAwait(false);
        return response.ThrowIfError(operation).Read<TReply>();
    }

    /// <summary>
    /// As <see cref="RequestAsync"/>, blocking (for data-plane threads: no thread-pool hop); gives up with
    /// <see cref="L4Status.SendTimeout"/> after <paramref name="timeout"/> (default 30 s); a reply that comes later
    /// goes to <paramref name="undo"/>, read, so what the broker did can be undone.
    /// </summary>
    internal TReply Request<TReply>(IControlRequest<TReply> request, string operation, TimeSpan? timeout = null, Action<TReply>? undo = null)
        where TReply : IControlMessage<TReply>
    {
        Action<ControlResponse>? late = undo is null ? null : response =>
        {
            using (response)
            {
                if (response.Status == L4Status.Ok)
                {
                    try
                    {
                        undo(response.Read<TReply>());
                    }
                    catch (L4RtException)
                    {
                        // a reply we could not read: nothing we could undo
                    }
                }
            }
        };
        using ControlResponse response = Call(request.Opcode, ToPayload(request), timeout ?? TimeSpan.FromSeconds(30), late);
        return response.ThrowIfError(operation).Read<TReply>();
    }

    private static Payload ToPayload<TReply>(IControlRequest<TReply> request)
        where TReply : IControlMessage<TReply>
    {
        Payload payload = new();
        request.Write(payload);
        return payload;
    }
}
