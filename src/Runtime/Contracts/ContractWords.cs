using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.Contracts;

/// <summary>
/// The marshalling primitives of generated contract code, over message registers: an unmanaged value in whole words
/// (the unused bytes of its last word zeroed, so nothing stale leaks to the peer), and a length-prefixed byte run
/// (<see cref="ReadOnlySpan{T}"/> of bytes, UTF-8 strings): one word with the length, then the bytes, packed.
/// Readers check every length against the words that arrived and fail instead of reading past them.
/// </summary>
public static class ContractWords
{
    /// <summary>The length word of a null string.</summary>
    private const ulong NullString = ulong.MaxValue;

    /// <summary>Words an unmanaged <typeparamref name="T"/> occupies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WordsOf<T>()
        where T : unmanaged => (Unsafe.SizeOf<T>() + 7) / 8;

    /// <summary>Words a run of <paramref name="bytes"/> bytes occupies, its length word included.</summary>
    public static int WordsOfBytes(int bytes) => 1 + ((bytes + 7) / 8);

    /// <summary>Writes <paramref name="value"/> to <paramref name="mr"/> at word <paramref name="at"/> (<see cref="WordsOf{T}"/> words).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Put<T>(Span<ulong> mr, int at, T value)
        where T : unmanaged
    {
        Span<ulong> words = mr.Slice(at, WordsOf<T>());
        if (Unsafe.SizeOf<T>() % 8 != 0)
        {
            words[^1] = 0; // the bytes past the value
        }

        MemoryMarshal.Write(MemoryMarshal.AsBytes(words), in value);
    }

    /// <summary>Reads an unmanaged <typeparamref name="T"/> from <paramref name="mr"/> at word <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Get<T>(ReadOnlySpan<ulong> mr, int at)
        where T : unmanaged => MemoryMarshal.Read<T>(MemoryMarshal.AsBytes(mr.Slice(at, WordsOf<T>())));

    /// <summary>Writes a boolean as one word (0 or 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PutBool(Span<ulong> mr, int at, bool value) => mr[at] = value ? 1UL : 0UL;

    /// <summary>Reads a boolean word: any non-zero word is true (a peer's stray bits never make an invalid bool).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool GetBool(ReadOnlySpan<ulong> mr, int at) => mr[at] != 0;

    /// <summary>
    /// Writes <paramref name="bytes"/> (length word, then the bytes) at word <paramref name="at"/> within the first
    /// <paramref name="limit"/> registers and returns the word after it; -1 when it does not fit (nothing useful written).
    /// </summary>
    public static int PutBytes(Span<ulong> mr, int at, int limit, ReadOnlySpan<byte> bytes)
    {
        int words = WordsOfBytes(bytes.Length);
        if (at < 0 || words > limit - at)
        {
            return -1;
        }

        mr[at] = (ulong)bytes.Length;
        Span<ulong> body = mr.Slice(at + 1, words - 1);
        if (!body.IsEmpty)
        {
            body[^1] = 0;
        }

        bytes.CopyTo(MemoryMarshal.AsBytes(body));
        return at + words;
    }

    /// <summary>
    /// Reads a byte run at word <paramref name="at"/> of the first <paramref name="words"/> registers (what arrived), as
    /// a view of the registers (valid until this thread's next IPC); false when its length does not fit in them.
    /// </summary>
    public static bool TryGetBytes(ReadOnlySpan<ulong> mr, scoped ref int at, int words, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (at < 0 || at >= words)
        {
            return false;
        }

        ulong length = mr[at];
        if (length > (ulong)(words - at - 1) * 8)
        {
            return false;
        }

        bytes = MemoryMarshal.AsBytes(mr.Slice(at + 1, (words - at - 1))).Slice(0, (int)length);
        at += WordsOfBytes((int)length);
        return true;
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (see <see cref="PutBytes"/>); null travels as a length word of all ones.</summary>
    public static int PutString(Span<ulong> mr, int at, int limit, string? text)
    {
        if (at < 0 || at >= limit)
        {
            return -1;
        }

        if (text is null)
        {
            mr[at] = NullString;
            return at + 1;
        }

        Span<byte> room = MemoryMarshal.AsBytes(mr.Slice(at + 1, limit - at - 1));
        if (Utf8.FromUtf16(text, room, out _, out int written, replaceInvalidSequences: true) != System.Buffers.OperationStatus.Done)
        {
            return -1;
        }

        mr[at] = (ulong)written;
        int words = WordsOfBytes(written);
        if (written % 8 != 0)
        {
            room.Slice(written, 8 - (written % 8)).Clear(); // the bytes past the text in its last word
        }

        return at + words;
    }

    /// <summary>Reads a UTF-8 string (see <see cref="TryGetBytes"/>); invalid UTF-8 becomes U+FFFD, a length that does not fit fails.</summary>
    public static bool TryGetString(ReadOnlySpan<ulong> mr, scoped ref int at, int words, out string? text)
    {
        if (at >= 0 && at < words && mr[at] == NullString)
        {
            at++;
            text = null;
            return true;
        }

        if (!TryGetBytes(mr, ref at, words, out ReadOnlySpan<byte> bytes))
        {
            text = null;
            return false;
        }

        text = Encoding.UTF8.GetString(bytes);
        return true;
    }

    /// <summary>Writes object item <paramref name="index"/> (mapping <paramref name="capability"/> with its rights) after <paramref name="words"/> words.</summary>
    public static void PutCapability(Span<ulong> mr, int words, int index, Capability capability)
    {
        ArgumentNullException.ThrowIfNull(capability);
        MsgItem.Map(capability, capability.Rights).WriteTo(mr.Slice(words + (index * MsgTag.WordsPerItem), MsgTag.WordsPerItem));
    }

    /// <summary>
    /// Server side: the capability object item <paramref name="index"/> of the message <paramref name="thread"/> received
    /// last delivered, as a <typeparamref name="T"/>; false when that item is not one (a peer's wrong or missing item).
    /// </summary>
    public static bool TryGetCapability<T>(L4Thread thread, int index, out T capability)
        where T : Capability
    {
        try
        {
            capability = thread.GetReceivedCapability<T>(index);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or L4RtException)
        {
            capability = null!;
            return false;
        }
    }

    /// <summary>Writes memory item <paramref name="index"/> (the flexpage <paramref name="pages"/> lends) after <paramref name="words"/> words.</summary>
    public static void PutFlexpage(Span<ulong> mr, int words, int index, Flexpage pages) =>
        pages.ToItem().WriteTo(mr.Slice(words + (index * MsgTag.WordsPerItem), MsgTag.WordsPerItem));

    /// <summary>
    /// Server side: the flexpage memory item <paramref name="index"/> of the message <paramref name="thread"/> received
    /// last mapped into its receive window; false when that item is not one.
    /// </summary>
    public static bool TryGetFlexpage(L4Thread thread, int index, out Flexpage pages)
    {
        try
        {
            pages = new Flexpage(thread.GetReceivedMapping(index));
            return true;
        }
        catch (InvalidOperationException)
        {
            pages = default;
            return false;
        }
    }
}
