using L4Rt.Tests.Support;

namespace L4Rt.Tests.Broker;

/// <summary>The SDK's control connection against a real broker: what a long-running service's calls cost it.</summary>
[Collection(ProcessCollection.Name)]
public class ControlConnectionTests
{
    [Fact]
    public async Task CallAsync_ReplyWithAnUnreadableHeader_FailsThatCallAtOnce_NotNever()
    {
        using TempDir dir = new();
        string path = dir.Socket("fake.sock");
        using L4Rt.Interop.UnixSeqpacketSocket listener = L4Rt.Interop.UnixSeqpacketSocket.Listen(path);
        L4Rt.Protocol.ControlConnection connection = await L4Rt.Protocol.ControlConnection.ConnectAsync(path, TimeSpan.FromSeconds(5), default);
        using L4Rt.Interop.UnixSeqpacketSocket peer = listener.Accept(5000)!;
        using (connection)
        {
            Task<L4Rt.Protocol.ControlResponse> call = connection.CallAsync(L4Rt.Protocol.Opcode.Status, null);
            byte[] request = new byte[L4Rt.Protocol.ProtocolLimits.MaxFrameSize];
            Assert.True(peer.WaitReadable(5000));
            int length = peer.Receive(request, []);
            Assert.True(length >= L4Rt.Protocol.FrameHeader.Size);
            byte[] reply = L4Rt.Protocol.Payload.Frame(L4Rt.Protocol.FrameKind.Response, L4Rt.Protocol.Opcode.Status, BitConverter.ToUInt32(request, 8), L4Status.Ok, []);
            BitConverter.GetBytes((ushort)999).CopyTo(reply, 6); // a status this build does not know
            peer.Send(reply);
            L4RtException e = await Assert.ThrowsAsync<L4RtException>(() => call.WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(L4Status.ProtocolViolation, e.Status);
            Assert.Contains("unknown status 999", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task CallAsync_TenThousandCallsWithOneLongLivedToken_RetainNothingPerCall()
    {
        const int Calls = 10_000;
        using BrokerProcess broker = new();
        await using L4Task task = await broker.ConnectAsync();

        // The hosted-service pattern: every call passes the same stoppingToken, which is never cancelled.
        using CancellationTokenSource stopping = new();
        for (int i = 0; i < 2_000; i++)
        {
            await task.Factory.GetUsageAsync(stopping.Token);
        }

        long before = RetainedBytes();
        for (int i = 0; i < Calls; i++)
        {
            await task.Factory.GetUsageAsync(stopping.Token);
        }

        long after = RetainedBytes();
        double perCall = (after - before) / (double)Calls;

        // A registration left on the token costs ~180 B per call; allow a few bytes of heap noise in total.
        Assert.True(perCall < 8, $"the heap grew {after - before} B over {Calls} control calls ({perCall:0.0} B per call)");
        GC.KeepAlive(stopping);
    }

    private static long RetainedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
