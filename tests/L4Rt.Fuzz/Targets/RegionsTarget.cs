using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using L4Rt.Channels;
using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Memory;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Fuzz.Targets;

/// <summary>
/// Hostile shared memory: real regions mapped in this process — a receiving <see cref="L4Thread"/> with two links
/// (its doorbell and the link pages), and one FIFO channel (header and ring) — scribbled by the input while the
/// receiving sides run with <see cref="L4Timeout.Zero"/>. Every byte a peer can write is the input's: states, tags,
/// message words, positions, record headers, death markers, doorbell hints. Each call must return a status (never
/// throw, never read outside its region; the fuzzer's watchdog bounds each execution), and a record the consumer hands
/// out must lie inside the ring.
/// <code>
///  input: a sequence of operations, read until the bytes run out; op o (o &amp; 7), link = (o &gt;&gt; 3) &amp; 1:
///    0  patch a link page         [offset u16][n u8][n bytes]      (offset modulo the layout, n modulo 64)
///    1  patch the doorbell        [offset u16][n u8][n bytes]
///    2  patch the channel         [offset u16][n u8][n bytes]      (header page and ring: 8 KiB)
///    3  open wait (Wait); a call taken is replied to
///    4  closed wait on the link (Receive)
///    5  an honest sender posts    [tag u64 little-endian]          (slot, then State, then the doorbell hint; bit 4 of o: a call)
///    6  consumer: read a record (bit 4 of o: release after it; bit 5: copy into a 64-byte buffer instead)
///    7  producer: write           [n u8] (0: complete the channel)
/// </code>
/// </summary>
internal sealed class RegionsTarget : IFuzzTarget
{
    private const long ChannelCapacity = 4096;
    private static readonly int s_linkBytes = Unsafe.SizeOf<LinkLayout>();
    private static readonly int s_doorbellBytes = Unsafe.SizeOf<DoorbellLayout>();
    private static readonly int s_channelBytes = (int)ChannelRegion.RegionSize(ChannelCapacity);

    public string Name => "regions";

    public IReadOnlyList<byte[]> Dictionary { get; } =
    [
        [0x4C, 0x34, 0x4C, 0x4B], [0x4C, 0x34, 0x43, 0x48], [0x4C, 0x34, 0x44, 0x42], [0x01, 0, 0, 0], [0x12, 0, 0, 0], [0x22, 0, 0, 0], [0x15, 0, 0, 0],
        [0xFF, 0xFF, 0xFF, 0xFF], [0x00, 0x10, 0, 0, 0, 0, 0, 0], [0x08, 0x10, 0, 0, 0, 0, 0, 0], [0x40, 0], [0x80, 0], [0x48, 0], [0x88, 0], [0x3F, 0, 0, 0],
    ];

    public unsafe void Run(ReadOnlySpan<byte> input)
    {
        using L4Thread receiver = new();
        using ReceiveLink first = receiver.CreateLink(7);
        using ReceiveLink second = receiver.CreateLink(8);
        ReceiveLink[] links = [first, second];
        using ChannelRegion shared = ChannelRegion.Create(ChannelCapacity);
        using ChannelProducer producer = new(shared);
        using ChannelConsumer consumer = new(ChannelRegion.Attach(Dup(shared.Handle), ChannelCapacity));
        byte[] copyBuffer = new byte[64];
        int seq = 0;
        int at = 0;
        while (at < input.Length)
        {
            byte op = input[at++];
            ReceiveLink link = links[(op >> 3) & 1];
            switch (op & 7)
            {
                case 0:
                    at = Patch(input, at, new Span<byte>(Unsafe.AsPointer(ref link.Region.Layout), s_linkBytes));
                    break;
                case 1:
                    at = Patch(input, at, new Span<byte>(Unsafe.AsPointer(ref receiver.Doorbell.Layout), s_doorbellBytes));
                    break;
                case 2:
                    at = Patch(input, at, new Span<byte>(Unsafe.AsPointer(ref shared.Layout), s_channelBytes));
                    break;
                case 3:
                    IpcResult taken = receiver.Wait(L4Timeout.Zero);
                    if (taken.IsOk && receiver.HasReplyCapability)
                    {
                        _ = receiver.Reply(new MsgTag(1, 1));
                    }

                    break;
                case 4:
                    _ = receiver.Receive(link, L4Timeout.Zero);
                    break;
                case 5:
                    if (at + 8 > input.Length)
                    {
                        return;
                    }

                    seq = (seq + 1) & 0x07FFFFFF;
                    Post(receiver, link, MemoryMarshal.Read<ulong>(input[at..]), (op & 0x10) != 0, seq);
                    at += 8;
                    break;
                case 6:
                    if ((op & 0x20) != 0)
                    {
                        L4Status copied = consumer.Read(copyBuffer, L4Timeout.Zero, out int length);
                        if (copied == L4Status.Ok && (uint)length > (uint)copyBuffer.Length)
                        {
                            throw new InvariantViolationException($"a copied record of {length} bytes for a {copyBuffer.Length}-byte buffer");
                        }

                        break;
                    }

                    if (consumer.Read(L4Timeout.Zero, out ReadOnlySpan<byte> record) == L4Status.Ok)
                    {
                        CheckInRing(consumer, record);
                    }

                    if ((op & 0x10) != 0)
                    {
                        consumer.Release();
                    }

                    break;
                default:
                    if (at >= input.Length)
                    {
                        return;
                    }

                    int size = input[at++];
                    _ = size == 0 ? producer.Complete(L4Timeout.Zero) : producer.Write(new byte[size], L4Timeout.Zero);
                    break;
            }
        }
    }

    public IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        static byte[] PostOf(int link, ulong tag) => [(byte)(5 | (link << 3)), .. BitConverter.GetBytes(tag)];
        ulong send = new MsgTag(3, 2).Raw;
        yield return ("post-wait", [.. PostOf(0, send), 3, .. PostOf(1, send), 3, 3]);
        yield return ("post-receive", [.. PostOf(1, send), 4 | 8, 4]);
        yield return ("call-reply", [(byte)(PostOf(0, send)[0] | 0x10), .. PostOf(0, send)[1..], 3, .. PostOf(0, send), 4]);
        yield return ("channel-stream", [7, 16, 7, 200, 6, 6 | 0x10, 7, 1, 6 | 0x20, 7, 0, 6, 6]);
        yield return ("channel-wrap", [7, 250, 7, 250, 7, 250, 6 | 0x10, 6 | 0x10, 6 | 0x10, 7, 250, 7, 250, 6, 6 | 0x10, 6]);
        // A hostile tail and record header over an honest record; a hostile state word and tag over an honest post.
        yield return ("channel-scribble", [7, 16, 2, 64, 0, 8, 0x40, 0, 0, 0, 0, 0, 0, 0, 2, 0x00, 0x10, 8, 0xF0, 0xFF, 0, 0, 0, 0, 0, 0, 6]);
        yield return ("link-scribble", [.. PostOf(0, send), 0, 64, 0, 4, 0x22, 0, 0, 0, 0, 112, 0, 8, 0x7F, 0x7F, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]);
        yield return ("doorbell-scribble", [1, 80, 0, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 128, 0, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 3, .. PostOf(1, send), 3]);
        yield return ("death-markers", [.. PostOf(0, send), 0, 80, 0, 4, 1, 0, 0, 0, 3, 3, 2, 80, 0, 4, 1, 0, 0, 0, 6]);
    }

    public byte[]? MutateStructure(byte[] input, Random random, Func<byte[]> otherEntry)
    {
        // A patch aimed at a field that matters: a link's control line or slot tag, a channel position or record header.
        int[] offsets = [64, 68, 72, 76, 80, 84, 88, 112, 120, 128, 136, 640, 648]; // control line words, the tags (v4), MR0/MR1 each way
        int[] channel = [8, 16, 20, 64, 72, 76, 80, 128, 136, 144, 4096, 4100, 4104, 4112, 4096 + 4088]; // with the fence words (v3)
        bool isChannel = random.Next(2) == 0;
        int offset = isChannel ? channel[random.Next(channel.Length)] : offsets[random.Next(offsets.Length)];
        int n = 1 << random.Next(4);
        byte[] patch = [(byte)(isChannel ? 2 : random.Next(2) << 3), (byte)offset, (byte)(offset >> 8), (byte)n, .. new byte[n]];
        random.NextBytes(patch.AsSpan(4));
        int where = random.Next(input.Length + 1);
        return [.. input.AsSpan(0, where), .. patch, .. input.AsSpan(where)];
    }

    /// <summary>What <see cref="L4Thread.Send(SendLink, MsgTag, L4Timeout)"/> writes once the receiver waits: the slot, then State, then the hint.</summary>
    internal static void Post(L4Thread receiver, ReceiveLink link, ulong tag, bool call, int seq)
    {
        ref LinkLayout l = ref link.Region.Layout;
        Span<ulong> words = l.RequestWords(Math.Min((int)(tag & 0x7F), MsgTag.MaxWords));
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = (ulong)(i + 1);
        }

        l.RequestTag = tag;
        int code = call ? LinkState.PostedCall : LinkState.Posted;
        l.StateWord.ExchangeFullFence(LinkState.Make(seq, code));
        receiver.Doorbell.RingWithHint(l.HintIndex);
    }

    private static void CheckInRing(ChannelConsumer consumer, ReadOnlySpan<byte> record)
    {
        ReadOnlySpan<byte> ring = consumer.Region.Slice(0, (int)consumer.Capacity);
        if (!record.IsEmpty && !(ring.Overlaps(record, out int offset) && offset >= 0 && offset + record.Length <= ring.Length))
        {
            throw new InvariantViolationException($"a record of {record.Length} bytes handed out outside the ring");
        }
    }

    private static int Patch(ReadOnlySpan<byte> input, int at, Span<byte> region)
    {
        if (at + 3 > input.Length)
        {
            return input.Length;
        }

        int offset = (input[at] | (input[at + 1] << 8)) % region.Length;
        int n = Math.Min(Math.Min(input[at + 2] % 64, input.Length - at - 3), region.Length - offset);
        input.Slice(at + 3, n).CopyTo(region[offset..]);
        return at + 3 + n;
    }

    private static SafeFileHandle Dup(SafeFileHandle fd) => new(Libc.Sys.Duplicate((int)fd.DangerousGetHandle()), ownsHandle: true);
}
