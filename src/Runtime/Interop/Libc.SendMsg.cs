using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    /// <summary>sendmsg(2)/recvmsg(2) with file descriptors as SCM_RIGHTS ancillary data.</summary>
    internal static unsafe partial class Msg
    {
        internal const int SOL_SOCKET = 1;
        internal const int SCM_RIGHTS = 1;
        internal const int MSG_NOSIGNAL = 0x4000;
        internal const int MSG_DONTWAIT = 0x40;
        internal const int MSG_CTRUNC = 0x8;
        internal const int MSG_TRUNC = 0x20;
        internal const int MSG_CMSG_CLOEXEC = 0x40000000;

        /// <summary>At most this many descriptors travel in one frame.</summary>
        internal const int MaxFds = 16;

        [StructLayout(LayoutKind.Sequential)]
        internal struct IoVec
        {
            public void* Base;
            public nuint Length;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct MsgHdr
        {
            public void* Name;
            public uint NameLength;
            public IoVec* Iov;
            public nuint IovLength;
            public void* Control;
            public nuint ControlLength;
            public int Flags;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct CmsgHdr
        {
            public nuint Length;
            public int Level;
            public int Type;
        }

        internal static int CmsgSpace(int dataBytes) => sizeof(CmsgHdr) + ((dataBytes + 7) & ~7);

        internal static int CmsgLength(int dataBytes) => sizeof(CmsgHdr) + dataBytes;

        [LibraryImport(Libraries.Libc, EntryPoint = "sendmsg", SetLastError = true)]
        private static partial nint SendMsgNative(SafeHandle fd, MsgHdr* msg, int flags);

        /// <summary>
        /// Sends one datagram (a whole frame) with optional descriptors. EINTR is retried. With
        /// <paramref name="nonBlocking"/>, returns false instead of blocking when the peer's queue is full
        /// (a peer that does not read must not stall the sender) or the peer is gone.
        /// </summary>
        internal static bool Send(SafeFdHandle socket, ReadOnlySpan<byte> payload, ReadOnlySpan<SafeHandle> fds, bool nonBlocking = false)
        {
            if (fds.Length > MaxFds)
            {
                throw new ArgumentException($"At most {MaxFds} descriptors travel in one frame.", nameof(fds));
            }

            int controlSpace = fds.Length == 0 ? 0 : CmsgSpace(fds.Length * sizeof(int));
            byte* control = stackalloc byte[CmsgSpace(MaxFds * sizeof(int))];
            int added = 0;
            try
            {
                if (fds.Length > 0)
                {
                    new Span<byte>(control, controlSpace).Clear();
                    CmsgHdr* header = (CmsgHdr*)control;
                    header->Length = (nuint)CmsgLength(fds.Length * sizeof(int));
                    header->Level = SOL_SOCKET;
                    header->Type = SCM_RIGHTS;
                    int* data = (int*)(control + sizeof(CmsgHdr));
                    for (; added < fds.Length; added++)
                    {
                        bool ok = false;
                        fds[added].DangerousAddRef(ref ok);
                        data[added] = (int)fds[added].DangerousGetHandle();
                    }
                }

                fixed (byte* bytes = payload)
                {
                    IoVec iov = new() { Base = bytes, Length = (nuint)payload.Length };
                    MsgHdr msg = new()
                    {
                        Iov = &iov,
                        IovLength = 1,
                        Control = fds.Length > 0 ? control : null,
                        ControlLength = (nuint)controlSpace,
                    };

                    while (SendMsgNative(socket, &msg, MSG_NOSIGNAL | (nonBlocking ? MSG_DONTWAIT : 0)) < 0)
                    {
                        int errno = Marshal.GetLastPInvokeError();
                        if (errno == Errno.EINTR)
                        {
                            continue;
                        }

                        if (nonBlocking && errno is Errno.EAGAIN or Errno.EPIPE or Errno.ECONNRESET or Errno.EBADF)
                        {
                            return false;
                        }

                        throw ErrnoException("sendmsg", errno);
                    }
                }

                return true;
            }
            finally
            {
                for (int i = 0; i < added; i++)
                {
                    fds[i].DangerousRelease();
                }
            }
        }
    }
}
