using System.Runtime.InteropServices;
using L4Rt.Interop;
using L4Rt.Memory;
using L4Rt.Tests.Support;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Tests.Interop;

public unsafe class SocketTests
{
    [Fact]
    public void SendWithFds_MemfdArrives_AndMapsTheSameMemory()
    {
        (UnixSeqpacketSocket a, UnixSeqpacketSocket b) = UnixSeqpacketSocket.CreatePair();
        using (a)
        using (b)
        using (SharedRegion region = SharedRegion.Create("passed", 4096))
        {
            a.Send([1, 2, 3], [region.Handle]);
            List<SafeFdHandle> fds = [];
            byte[] buffer = new byte[16];
            Assert.Equal(3, b.Receive(buffer, fds));
            Assert.Equal([1, 2, 3], buffer[..3]);
            SafeFdHandle fd = Assert.Single(fds);
            int raw = fd.Fd;
            fd.SetHandleAsInvalid();
            using SharedRegion received = SharedRegion.Attach(new SafeFileHandle(raw, true), 4096);
            region.Base[7] = 99;
            Assert.Equal(99, received.Base[7]);
        }
    }

    [Fact]
    public void Receive_PeerClosed_ReturnsEndOfStream()
    {
        (UnixSeqpacketSocket a, UnixSeqpacketSocket b) = UnixSeqpacketSocket.CreatePair();
        using (b)
        {
            a.Dispose();
            Assert.Equal(0, b.Receive(new byte[16], []));
        }
    }

    [Fact]
    public void Receive_FrameLargerThanBuffer_ReportsTruncation()
    {
        (UnixSeqpacketSocket a, UnixSeqpacketSocket b) = UnixSeqpacketSocket.CreatePair();
        using (a)
        using (b)
        {
            a.Send(new byte[100]);
            Assert.Equal(-1, b.Receive(new byte[10], []));
        }
    }

    [Fact]
    public void PeerCredentials_OfConnectedListener_AreOurPidAndUid()
    {
        using TempDir dir = new();
        using UnixSeqpacketSocket listener = UnixSeqpacketSocket.Listen(dir.Socket());
        using UnixSeqpacketSocket client = UnixSeqpacketSocket.TryConnect(dir.Socket(), out int errno)!;
        Assert.Equal(0, errno);
        using UnixSeqpacketSocket server = listener.Accept(5000)!;
        Libc.Socket.UCred cred = server.PeerCredentials;
        Assert.Equal(Environment.ProcessId, cred.Pid);
        Assert.Equal(Libc.Process.GetUid(), cred.Uid);
    }

    [Fact]
    public void TryConnect_NoListener_ReturnsErrnoNotException()
    {
        using TempDir dir = new();
        Assert.Null(UnixSeqpacketSocket.TryConnect(dir.Socket(), out int errno));
        Assert.Equal(Libc.Errno.ENOENT, errno);
    }

    [Fact]
    public void Accept_NoClient_TimesOutWithNull()
    {
        using TempDir dir = new();
        using UnixSeqpacketSocket listener = UnixSeqpacketSocket.Listen(dir.Socket());
        Assert.Null(listener.Accept(50));
    }

    [Fact]
    public void Send_TooManyFds_IsRefused()
    {
        (UnixSeqpacketSocket a, UnixSeqpacketSocket b) = UnixSeqpacketSocket.CreatePair();
        using (a)
        using (b)
        {
            SafeHandle[] many = Enumerable.Range(0, Libc.Msg.MaxFds + 1).Select(_ => (SafeHandle)a.Handle).ToArray();
            Assert.Throws<ArgumentException>(() => a.Send([1], many));
        }
    }
}
