using Grpc.Core;
using L4Rt.Channels;
using L4Rt.Objects;
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

    /// <inheritdoc/>
    public override async Task Stream(IAsyncStreamReader<ChannelFrame> requestStream, IServerStreamWriter<ChannelFrame> responseStream, ServerCallContext context)
    {
        string? peer = trust.Verify(context.GetHttpContext().Connection.ClientCertificate, out string reason);
        if (peer is null)
        {
            LogRefused(logger, context.Peer, reason);
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"client certificate refused: {reason}"));
        }

        CancellationToken ct = context.CancellationToken;
        if (!await requestStream.MoveNext(ct).ConfigureAwait(false) || requestStream.Current.KindCase != ChannelFrame.KindOneofCase.Open)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "the first frame must be an Open"));
        }

        StreamOpen open = requestStream.Current.Open;
        if (!options.Value.Exports.Any(e => e.Name == open.Name && e.Peers.Contains(peer, StringComparer.Ordinal)))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "not exported to this peer")); // says nothing of whether it exists
        }

        Channel channel;
        try
        {
            channel = await bridge.Task.Names.QueryAsync<Channel>(open.Name, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
        }
        catch (L4RtException e)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"'{open.Name}' is not a channel here now ({e.Status})"));
        }

        try
        {
            if (open.ToExporter)
            {
                using ChannelProducer producer = await channel.OpenProducerAsync(ct).ConfigureAwait(false);
                LogStream(logger, open.Name, peer, "in");
                await ChannelPump.InAsync(requestStream, producer, ct).ConfigureAwait(false);
            }
            else
            {
                using ChannelConsumer consumer = await channel.OpenConsumerAsync(ct).ConfigureAwait(false);
                LogStream(logger, open.Name, peer, "out");
                await ChannelPump.OutAsync(consumer, f => responseStream.WriteAsync(f, ct), ct).ConfigureAwait(false);
            }
        }
        catch (L4RtException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"cannot take an end of '{open.Name}': {e.Message}"));
        }
        finally
        {
            try
            {
                await channel.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (L4RtException)
            {
                // gone with its object
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "channel '{Name}' bridged for peer '{Peer}' ({Direction})")]
    private static partial void LogStream(ILogger logger, string name, string peer, string direction);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a peer at {Address}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string address, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer '{Peer}' connected: {Granted} of {Asked} names exported to it")]
    private static partial void LogSession(ILogger logger, string peer, int granted, int asked);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer '{Peer}' disconnected")]
    private static partial void LogSessionEnded(ILogger logger, string peer);
}
