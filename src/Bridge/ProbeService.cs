using Grpc.Core;
using L4Rt.Bridge.Wire;

namespace L4Rt.Bridge;

/// <summary>The plain unary baseline: answers words[0] + 1, the rest unchanged (the work the bridged test server does).</summary>
internal sealed class ProbeService : Probe.ProbeBase
{
    public override Task<EchoMessage> Echo(EchoMessage request, ServerCallContext context)
    {
        if (request.Words.Count > 63)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "at most 63 words"));
        }

        EchoMessage reply = new();
        reply.Words.AddRange(request.Words);
        if (reply.Words.Count > 0)
        {
            reply.Words[0]++;
        }

        return Task.FromResult(reply);
    }
}
