using Grpc.Core;
using L4Rt.Bridge.Wire;

namespace L4Rt.Bridge;

/// <summary>The plain gRPC baselines: a unary echo (words[0] + 1, the rest unchanged) and a client stream counted by a sink.</summary>
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

    public override async Task<SinkTotal> Sink(IAsyncStreamReader<Block> requestStream, ServerCallContext context)
    {
        SinkTotal total = new();
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            total.Bytes += requestStream.Current.Data.Length;
            total.Blocks++;
        }

        return total;
    }
}
