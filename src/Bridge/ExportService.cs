using Grpc.Core;
using L4Rt.Bridge.Wire;
using Microsoft.Extensions.Options;

namespace L4Rt.Bridge;

/// <summary>
/// The exporting side: one <c>Connect</c> stream per importing peer. The peer is who its client certificate says
/// (Kestrel has already checked it chains to the trusted CA); its Hello lists the names it wants, and only those the
/// allow-list exports to it are granted. The stream then carries its requests in and their outcomes out.
/// </summary>
internal sealed partial class ExportService(BridgeTask bridge, PeerTrust trust, IOptions<BridgeOptions> options, ILogger<ExportService> logger) : GateBridge.GateBridgeBase
{
    internal const uint ProtocolVersion = 1;

    /// <inheritdoc/>
    public override async Task Connect(IAsyncStreamReader<ImportFrame> requestStream, IServerStreamWriter<ExportFrame> responseStream, ServerCallContext context)
    {
        string? peer = trust.Verify(context.GetHttpContext().Connection.ClientCertificate, out string reason);
        if (peer is null)
        {
            LogRefused(logger, context.Peer, reason);
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"client certificate refused: {reason}"));
        }

        BridgeOptions o = options.Value;
        using CancellationTokenSource helloTimeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        helloTimeout.CancelAfter(o.DetectionTime);
        Hello hello;
        try
        {
            if (!await requestStream.MoveNext(helloTimeout.Token).ConfigureAwait(false) || requestStream.Current.KindCase != ImportFrame.KindOneofCase.Hello)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "the first frame must be a Hello"));
            }

            hello = requestStream.Current.Hello;
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, "no Hello within the detection time"));
        }

        if (hello.Version != ProtocolVersion)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"bridge protocol {hello.Version} is not spoken here (this bridge speaks {ProtocolVersion})"));
        }

        if (hello.Names.Count > 1024)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "at most 1024 names per stream"));
        }

        await using ExportSession session = new(bridge, o, peer, hello.Names, responseStream, logger);
        LogSession(logger, peer, session.GrantedCount, hello.Names.Count);
        await session.RunAsync(requestStream, context.CancellationToken).ConfigureAwait(false);
        LogSessionEnded(logger, peer);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a peer at {Address}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string address, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer '{Peer}' connected: {Granted} of {Asked} names exported to it")]
    private static partial void LogSession(ILogger logger, string peer, int granted, int asked);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer '{Peer}' disconnected")]
    private static partial void LogSessionEnded(ILogger logger, string peer);
}
