using L4Rt.Interop;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Protocol.Messages;

/// <summary>Descriptors received with a message: counted against what the message carries, then taken.</summary>
internal static class Descriptors
{
    /// <summary>Fails unless exactly <paramref name="expected"/> descriptors came with the message.</summary>
    internal static void Expect(List<SafeFdHandle> fds, int expected)
    {
        if (fds.Count != expected)
        {
            throw new L4RtException(L4Status.ProtocolViolation, $"expected {expected} descriptor(s) with this message, got {fds.Count}");
        }
    }

    /// <summary>Takes the received descriptor at <paramref name="index"/> (after <see cref="Expect"/>) as a file handle the caller owns.</summary>
    internal static SafeFileHandle Take(List<SafeFdHandle> fds, int index)
    {
        SafeFdHandle fd = fds[index];
        int raw = fd.Fd;
        fd.SetHandleAsInvalid();
        return new SafeFileHandle(raw, ownsHandle: true);
    }

    /// <summary>Takes all <paramref name="count"/> descriptors (after checking the count), in order.</summary>
    internal static SafeFileHandle[] TakeAll(List<SafeFdHandle> fds, int count)
    {
        Expect(fds, count);
        SafeFileHandle[] taken = new SafeFileHandle[count];
        for (int i = 0; i < count; i++)
        {
            taken[i] = Take(fds, i);
        }

        fds.Clear();
        return taken;
    }
}
