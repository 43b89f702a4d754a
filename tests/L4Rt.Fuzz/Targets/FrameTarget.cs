using System.Reflection;
using System.Text;
using L4Rt.Interop;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;
using Microsoft.Win32.SafeHandles;
using Msg = L4Rt.Protocol.Messages;

namespace L4Rt.Fuzz.Targets;

/// <summary>
/// The frame decoder: <see cref="FrameHeader.TryParse"/> on the frame, then one message type's <c>Read</c> (every
/// request, reply and notification in <see cref="L4Rt.Protocol.Messages"/>, found by reflection so a new message is
/// fuzzed without being listed) on its payload, with descriptors beside it. A malformed input must end in the
/// protocol's own <see cref="L4RtException"/>; a message that decodes must encode back to bytes that decode to the
/// same encoding (one definition per wire message, both directions).
/// <code>
///  input: [0] message type (index into <see cref="MessageTypes"/>, modulo their number)
///         [1] descriptors received with it (low 2 bits: 0–3, each a /dev/null handle)
///         [2…] the frame: 16-byte header, then the payload (decoded even when the header is refused)
/// </code>
/// </summary>
internal sealed class FrameTarget : IFuzzTarget
{
    private delegate void Decoder(ReadOnlySpan<byte> payload, List<SafeFdHandle> fds);

    private static readonly (Type Type, Decoder Decode)[] s_decoders = MakeDecoders();

    public string Name => "frame";

    /// <summary>The message types, in the order input byte 0 picks them (by full name).</summary>
    internal static IEnumerable<Type> MessageTypes => s_decoders.Select(d => d.Type);

    public IReadOnlyList<byte[]> Dictionary { get; } =
    [
        [0x4C, 0x34], [0x01], [0x02], [0x03], [0xFF, 0xFF], [0x80, 0x00], [0x40, 0x00], [0x3A, 0x00], [0x00, 0x00, 0x01, 0x00],
        [0xFF, 0xFF, 0xFF, 0x7F], [0x00, 0x00, 0x00, 0x80], [0x00, 0x10, 0x00, 0x00], [0xC3, 0x28], [0xF0, 0x9F, 0x98], Encoding.ASCII.GetBytes("svc/echo"),
    ];

    public void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
        {
            return;
        }

        ReadOnlySpan<byte> frame = input[2..];
        if (FrameHeader.TryParse(frame, out FrameHeader header, out string? error))
        {
            if (error is not null || header.PayloadLength != frame.Length - FrameHeader.Size)
            {
                throw new InvariantViolationException($"header accepted with error '{error}' or length {header.PayloadLength} for a {frame.Length}-byte frame");
            }
        }
        else if (error is null)
        {
            throw new InvariantViolationException("header refused without a reason");
        }

        ReadOnlySpan<byte> payload = frame.Length >= FrameHeader.Size ? frame[FrameHeader.Size..] : frame;
        List<SafeFdHandle> fds = OpenFds(input[1] & 3);
        try
        {
            s_decoders[input[0] % s_decoders.Length].Decode(payload, fds);
        }
        finally
        {
            foreach (SafeFdHandle fd in fds)
            {
                fd.Dispose();
            }
        }
    }

    public IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        Payload p;
        yield return Seed<Hello.Request>(FrameKind.Request, Opcode.Hello, new Hello.Request(ProtocolLimits.ProtocolVersion, "fuzz-task"));
        yield return Seed<Hello.Reply>(FrameKind.Response, Opcode.Hello, new Hello.Reply(1, 0, 1, 2, 77));
        yield return Seed<NameRegister.Request>(FrameKind.Request, Opcode.NameRegister, new NameRegister.Request(2, 4, CapRights.Send | CapRights.Map, "svc/echo"));
        yield return Seed<NameQuery.Request>(FrameKind.Request, Opcode.NameQuery, new NameQuery.Request(2, 100, "svc/echo"));
        yield return Seed<NameList.Request>(FrameKind.Request, Opcode.NameList, new NameList.Request(2, "svc/a"));
        yield return Seed<NameList.Reply>(FrameKind.Response, Opcode.NameList,
            new NameList.Reply(2, [new("svc/a", CapKind.Gate, CapRights.Send, 1), new("svc/b", CapKind.Irq, CapRights.Write, 2)], true));
        yield return Seed<ItemOffer.Request>(FrameKind.Request, Opcode.ItemOffer, new ItemOffer.Request(3, 16, [0x0000_0004_0000_0001UL, 0x10_0000_2001UL]));
        yield return Seed<ItemAccept.Request>(FrameKind.Request, Opcode.ItemAccept, new ItemAccept.Request(3, 1, 16, [5, ItemAccept.AnySlot], 8192));
        yield return Seed<ItemAccept.Reply>(FrameKind.Response, Opcode.ItemAccept,
            new ItemAccept.Reply([new(1, 0, CapRights.Send, CapKind.Gate, 5, 0, 0, 0), new(2, 1, CapRights.Read, CapKind.Dataspace, -1, 0, 4096, 9)], []), fds: 1);
        yield return Seed<ReplyItemAccept.Request>(FrameKind.Request, Opcode.ReplyItemAccept, new ReplyItemAccept.Request(3, 16, [ItemAccept.AnySlot], 0));
        yield return Seed<TaskNote.Request>(FrameKind.Request, Opcode.TaskNote, new TaskNote.Request("exports svc/echo"));
        yield return Seed<Msg.Status.Reply>(FrameKind.Response, Opcode.Status, new Msg.Status.Reply(1, 12, Encoding.UTF8.GetBytes("{\"tasks\":[]}")));
        p = new Payload().Int32(1).Int64(4096);
        yield return ("zero-frame-header-only", [0, 0, .. Payload.Frame(FrameKind.Request, Opcode.Delete, 7, L4Status.Ok, p.Span)]);

        // Every other message type: the smallest all-zero payload it accepts, under a valid header.
        for (int i = 0; i < s_decoders.Length; i++)
        {
            if (SmallestZeroPayload(i) is (int length, int fds))
            {
                byte[] frame = Payload.Frame(KindOf(s_decoders[i].Type), Opcode.Hello, 1, L4Status.Ok, new byte[length]);
                yield return ($"zero-{Short(s_decoders[i].Type)}", [(byte)i, (byte)fds, .. frame]);
            }
        }
    }

    public byte[]? MutateStructure(byte[] input, Random random, Func<byte[]> otherEntry)
    {
        if (input.Length < 2 + FrameHeader.Size)
        {
            return null;
        }

        byte[] copy = (byte[])input.Clone();
        switch (random.Next(3))
        {
            case 0: // the header's length made right again after the payload grew or shrank
                BitConverter.TryWriteBytes(copy.AsSpan(2 + 12), copy.Length - 2 - FrameHeader.Size);
                break;
            case 1: // another message type for the same payload
                copy[0] = (byte)random.Next(s_decoders.Length);
                break;
            default: // another descriptor count
                copy[1] = (byte)random.Next(4);
                break;
        }

        return copy;
    }

    private static (string, byte[]) Seed<T>(FrameKind kind, Opcode opcode, T message, int fds = 0)
        where T : IControlMessage<T>
    {
        Payload payload = new();
        message.Write(payload);
        int index = Array.FindIndex(s_decoders, d => d.Type == typeof(T));
        return ($"{Short(typeof(T))}", [(byte)index, (byte)fds, .. Payload.Frame(kind, opcode, 1, L4Status.Ok, payload.Span)]);
    }

    private static (int Length, int Fds)? SmallestZeroPayload(int index)
    {
        for (int fds = 0; fds < 3; fds++)
        {
            for (int length = 0; length <= 64; length++)
            {
                List<SafeFdHandle> list = OpenFds(fds);
                try
                {
                    s_decoders[index].Decode(new byte[length], list);
                    return (length, fds);
                }
                catch (L4RtException)
                {
                }
                catch (InvariantViolationException)
                {
                }
                finally
                {
                    foreach (SafeFdHandle fd in list)
                    {
                        fd.Dispose();
                    }
                }
            }
        }

        return null;
    }

    private static FrameKind KindOf(Type type) => type.Name switch
    {
        "Request" => FrameKind.Request,
        "Notification" => FrameKind.Notification,
        _ => FrameKind.Response,
    };

    private static string Short(Type type) => (type.DeclaringType is { } outer ? outer.Name + "." : "") + type.Name;

    private static List<SafeFdHandle> OpenFds(int count)
    {
        List<SafeFdHandle> fds = new(count);
        for (int i = 0; i < count; i++)
        {
            SafeFileHandle file = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.ReadWrite);
            int raw = (int)file.DangerousGetHandle();
            file.SetHandleAsInvalid(); // ownership moves to the SafeFdHandle, as a received SCM_RIGHTS descriptor
            fds.Add(new SafeFdHandle(raw));
        }

        return fds;
    }

    private static (Type, Decoder)[] MakeDecoders()
    {
        MethodInfo make = typeof(FrameTarget).GetMethod(nameof(MakeDecoder), BindingFlags.NonPublic | BindingFlags.Static)!;
        return [.. typeof(FrameHeader).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(Empty).Namespace && !t.IsGenericTypeDefinition && t.IsValueType
                && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IControlMessage<>) && i.GetGenericArguments()[0] == t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (t, (Decoder)make.MakeGenericMethod(t).Invoke(null, null)!))];
    }

    private static Decoder MakeDecoder<T>()
        where T : IControlMessage<T> => RoundTrip<T>;

    /// <summary>Decodes; a message that decodes is encoded, decoded and encoded again, and both encodings must agree.</summary>
    private static void RoundTrip<T>(ReadOnlySpan<byte> payload, List<SafeFdHandle> fds)
        where T : IControlMessage<T>
    {
        T message;
        try
        {
            FrameReader reader = new(payload);
            message = T.Read(ref reader, fds);
        }
        catch (L4RtException)
        {
            return; // the protocol's own refusal
        }

        try
        {
            byte[] first = Encode(message);
            List<SafeFdHandle> again = OpenFds(message.Fds.Length);
            T decoded;
            try
            {
                FrameReader reader = new(first);
                decoded = T.Read(ref reader, again);
            }
            catch (L4RtException e)
            {
                throw new InvariantViolationException($"{typeof(T)} decoded, but its own encoding is refused: {e.Message}", e);
            }
            finally
            {
                foreach (SafeFdHandle fd in again)
                {
                    fd.Dispose();
                }
            }

            byte[] second = Encode(decoded);
            DisposeFds(decoded);
            if (!first.AsSpan().SequenceEqual(second))
            {
                throw new InvariantViolationException($"{typeof(T)} encodes differently after a round trip");
            }
        }
        finally
        {
            DisposeFds(message);
        }
    }

    private static byte[] Encode<T>(T message)
        where T : IControlMessage<T>
    {
        Payload payload = new();
        message.Write(payload);
        return payload.Span.ToArray();
    }

    private static void DisposeFds<T>(T message)
        where T : IControlMessage<T>
    {
        foreach (System.Runtime.InteropServices.SafeHandle fd in message.Fds)
        {
            fd?.Dispose();
        }
    }
}
