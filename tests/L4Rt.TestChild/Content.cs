namespace L4Rt.TestChild;

// Shared with the test project (linked there): both ends of a stream compute the same digests.
/// <summary>Deterministic content and a checksum both ends compute the same way.</summary>
internal static class Content
{
    /// <summary>Fills a record with words derived from its index; returns the digest of the bytes written.</summary>
    internal static ulong FillRecord(Span<byte> record, long index)
    {
        Span<ulong> words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(record);
        ulong v = ((ulong)index * 0x9E3779B97F4A7C15UL) ^ 0xD1B54A32D192ED03UL;
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = v + ((ulong)i * 0xBF58476D1CE4E5B9UL);
        }

        for (int i = words.Length * 8; i < record.Length; i++)
        {
            record[i] = (byte)(v >> (i & 7));
        }

        return Digest(record);
    }

    /// <summary>A 64-bit digest of the bytes (word-wise, position-sensitive).</summary>
    internal static ulong Digest(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<ulong> words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(data);
        ulong h = (ulong)data.Length;
        for (int i = 0; i < words.Length; i++)
        {
            h = (h ^ words[i]) * 0x100000001B3UL + (ulong)i;
        }

        for (int i = words.Length * 8; i < data.Length; i++)
        {
            h = (h ^ data[i]) * 0x100000001B3UL;
        }

        return h;
    }

    internal static ulong Mix(ulong checksum, ulong digest) => (checksum * 0x9E3779B97F4A7C15UL) ^ digest;

    internal static ulong Fill(Span<byte> target, ref ulong state, ulong checksum)
    {
        for (int i = 0; i < target.Length; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            target[i] = (byte)state;
            checksum = (checksum * 1099511628211UL) ^ (byte)state;
        }

        return checksum;
    }

    internal static ulong Checksum(ReadOnlySpan<byte> data, ulong checksum)
    {
        foreach (byte b in data)
        {
            checksum = (checksum * 1099511628211UL) ^ b;
        }

        return checksum;
    }
}
