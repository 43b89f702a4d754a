using System.Buffers.Binary;

namespace L4Rt.Fuzz.Engine;

/// <summary>
/// AFL's havoc stage: a stack of 1–32 random edits — bit and byte flips, interesting 8/16/32/64-bit values in either
/// byte order, small arithmetic, random bytes, block delete/insert/overwrite/copy, dictionary words — plus splicing
/// two corpus entries, and the target's own structure-aware edit when it has one.
/// </summary>
internal sealed class Mutator(Random random, IReadOnlyList<byte[]> dictionary, int maxLength)
{
    private static readonly long[] s_interesting =
    [
        -128, -1, 0, 1, 16, 32, 64, 100, 127, 128, 255, 256, 512, 1000, 1024, 4096, 32767, 32768, 65535, 65536,
        -32768, -129, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 30, 1L << 32, long.MaxValue, long.MinValue, 4095, 4097, 63, 58, 64 * 1024,
    ];

    /// <summary>One havoc stack applied to a copy of <paramref name="input"/>.</summary>
    internal byte[] Havoc(byte[] input)
    {
        List<byte> data = [.. input];
        int stack = 1 << (1 + random.Next(5));
        for (int i = 0; i < stack; i++)
        {
            MutateOnce(data);
        }

        if (data.Count > maxLength)
        {
            data.RemoveRange(maxLength, data.Count - maxLength);
        }

        return [.. data];
    }

    /// <summary>AFL's splice: the head of one entry up to a point where the two differ, the tail of the other.</summary>
    internal byte[]? Splice(byte[] a, byte[] b)
    {
        int shorter = Math.Min(a.Length, b.Length);
        int firstDiff = -1;
        int lastDiff = -1;
        for (int i = 0; i < shorter; i++)
        {
            if (a[i] != b[i])
            {
                firstDiff = firstDiff < 0 ? i : firstDiff;
                lastDiff = i;
            }
        }

        if (firstDiff < 0 || lastDiff - firstDiff < 2)
        {
            return null;
        }

        int cut = firstDiff + random.Next(lastDiff - firstDiff);
        return [.. a.AsSpan(0, cut), .. b.AsSpan(cut)];
    }

    private void MutateOnce(List<byte> data)
    {
        if (data.Count == 0)
        {
            data.Add((byte)random.Next(256));
            return;
        }

        int at = random.Next(data.Count);
        switch (random.Next(16))
        {
            case 0:
                data[at] ^= (byte)(1 << random.Next(8));
                break;
            case 1:
                data[at] = (byte)s_interesting[random.Next(s_interesting.Length)];
                break;
            case 2:
                Write(data, at, 2, s_interesting[random.Next(s_interesting.Length)]);
                break;
            case 3:
                Write(data, at, 4, s_interesting[random.Next(s_interesting.Length)]);
                break;
            case 4:
                Write(data, at, 8, s_interesting[random.Next(s_interesting.Length)]);
                break;
            case 5:
                data[at] = (byte)(data[at] + random.Next(1, 36));
                break;
            case 6:
                data[at] = (byte)(data[at] - random.Next(1, 36));
                break;
            case 7: // 16/32-bit arithmetic, either byte order
                if (at + 4 <= data.Count)
                {
                    Span<byte> word = [data[at], data[at + 1], data[at + 2], data[at + 3]];
                    int delta = random.Next(-35, 36);
                    if (random.Next(2) == 0)
                    {
                        BinaryPrimitives.WriteInt32LittleEndian(word, BinaryPrimitives.ReadInt32LittleEndian(word) + delta);
                    }
                    else
                    {
                        BinaryPrimitives.WriteInt32BigEndian(word, BinaryPrimitives.ReadInt32BigEndian(word) + delta);
                    }

                    for (int i = 0; i < 4; i++)
                    {
                        data[at + i] = word[i];
                    }
                }

                break;
            case 8:
                data[at] = (byte)random.Next(256);
                break;
            case 9:
            case 10: // delete a block (twice as likely as inserting one, as in AFL, to keep inputs small)
                data.RemoveRange(at, Math.Min(data.Count - at, BlockLength(data.Count)));
                break;
            case 11: // insert a copy of a block, or a run of one byte
                {
                    int length = BlockLength(data.Count);
                    int from = random.Next(data.Count);
                    byte[] block = random.Next(4) == 0
                        ? Enumerable.Repeat((byte)random.Next(256), length).ToArray()
                        : [.. data.GetRange(from, Math.Min(length, data.Count - from))];
                    data.InsertRange(at, block);
                    break;
                }

            case 12: // overwrite with a copy of another block
                {
                    int from = random.Next(data.Count);
                    int length = Math.Min(BlockLength(data.Count), Math.Min(data.Count - from, data.Count - at));
                    byte[] block = [.. data.GetRange(from, length)];
                    for (int i = 0; i < length; i++)
                    {
                        data[at + i] = block[i];
                    }

                    break;
                }

            case 13:
            case 14: // a dictionary word, overwritten or inserted
                if (dictionary.Count > 0)
                {
                    byte[] word = dictionary[random.Next(dictionary.Count)];
                    if (random.Next(2) == 0)
                    {
                        data.InsertRange(at, word);
                    }
                    else
                    {
                        for (int i = 0; i < word.Length && at + i < data.Count; i++)
                        {
                            data[at + i] = word[i];
                        }
                    }
                }

                break;
            default: // swap two bytes
                int other = random.Next(data.Count);
                (data[at], data[other]) = (data[other], data[at]);
                break;
        }
    }

    private int BlockLength(int count) => 1 + random.Next(Math.Max(1, Math.Min(count, random.Next(3) == 0 ? 128 : 16)));

    private void Write(List<byte> data, int at, int size, long value)
    {
        if (at + size > data.Count)
        {
            return;
        }

        Span<byte> bytes = stackalloc byte[8];
        if (random.Next(2) == 0)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        }
        else
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes, value << (8 * (8 - size)));
        }

        for (int i = 0; i < size; i++)
        {
            data[at + i] = bytes[i];
        }
    }
}
