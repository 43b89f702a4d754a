using System.Runtime.InteropServices;

namespace L4Rt.Interop;

internal static partial class Libc
{
    internal static unsafe partial class Msg
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "recvmsg", SetLastError = true)]
        private static partial nint RecvMsgNative(SafeHandle fd, MsgHdr* msg, int flags);

        /// <summary>
        /// Receives one datagram into <paramref name="buffer"/> and any descriptors into <paramref name="fds"/>.
        /// Every received descriptor is owned by a handle at once, so none leaks even when the frame is rejected.
        /// </summary>
        /// <returns>The frame length, 0 at end of stream (peer closed), or -1 if the frame or its descriptors were truncated.</returns>
        internal static int Receive(SafeFdHandle socket, Span<byte> buffer, List<SafeFdHandle> fds, int maxFds = MaxFds)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFds);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFds, MaxFds);
            int controlSpace = CmsgSpace(maxFds * sizeof(int));
            byte* control = stackalloc byte[controlSpace];
            fixed (byte* bytes = buffer)
            {
                IoVec iov = new() { Base = bytes, Length = (nuint)buffer.Length };
                MsgHdr msg = new() { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)controlSpace };
                nint received;
                bool reset = false;
                while ((received = RecvMsgNative(socket, &msg, MSG_CMSG_CLOEXEC)) < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    if (errno == Errno.ECONNRESET && !reset)
                    {
                        // A peer that closed with our data unread leaves ECONNRESET pending, and Linux reports it
                        // before frames still queued for us (e.g. the broker's reason for refusing us). Reading
                        // the error clears it: read again to get those frames, or end of stream.
                        reset = true;
                        continue;
                    }

                    if (errno == Errno.ECONNRESET || errno == Errno.EBADF || errno == Errno.EINVAL)
                    {
                        return 0; // peer gone or socket shut down locally: end of stream
                    }

                    throw ErrnoException("recvmsg", errno);
                }

                // Walk the control messages the kernel wrote; lengths come from the kernel, still bounds-checked.
                nuint offset = 0;
                while (offset + (nuint)sizeof(CmsgHdr) <= msg.ControlLength)
                {
                    CmsgHdr* header = (CmsgHdr*)(control + offset);
                    nuint length = header->Length;
                    if (length < (nuint)sizeof(CmsgHdr) || offset + length > msg.ControlLength)
                    {
                        break;
                    }

                    if (header->Level == SOL_SOCKET && header->Type == SCM_RIGHTS)
                    {
                        int count = (int)((length - (nuint)sizeof(CmsgHdr)) / sizeof(int));
                        int* data = (int*)(control + offset + (nuint)sizeof(CmsgHdr));
                        for (int i = 0; i < count; i++)
                        {
                            fds.Add(new SafeFdHandle(data[i]));
                        }
                    }

                    offset += (length + 7) & ~(nuint)7;
                }

                return (msg.Flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ? -1 : (int)received;
            }
        }
    }
}
