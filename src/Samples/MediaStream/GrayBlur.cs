using System.Numerics;
using System.Runtime.CompilerServices;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// The filter's work on every frame: grayscale (both chroma planes set to 128) and a 3×3 box blur of the luma plane,
/// edges clamped: out(x, y) = ⌊Σ in(clamp(x+dx), clamp(y+dy)) / 9⌋ over dx, dy ∈ {-1, 0, 1}. Works in place (the
/// source and destination may be the same memory, as in the frame pool) because every input row is copied into a
/// three-row window before the output row that overwrites it is written. Vectorized with <see cref="Vector{T}"/>;
/// the buffers are allocated once per geometry.
/// </summary>
internal sealed class GrayBlur
{
    // ⌊s / 9⌋ == (s · 7282) >> 16 for every s from 0 to 9 · 255 (checked by a test): a multiply instead of a divide.
    private const uint NinthMultiplier = 7282;

    private readonly FrameGeometry _geometry;
    private readonly byte[][] _rows; // the window: three copies of input rows
    private readonly ushort[] _columns; // per x: the sum of the window's three rows

    /// <summary>A filter for frames of <paramref name="geometry"/> (allocates its row window once).</summary>
    public GrayBlur(FrameGeometry geometry)
    {
        _geometry = geometry;
        _rows = [new byte[geometry.Width], new byte[geometry.Width], new byte[geometry.Width]];
        _columns = new ushort[geometry.Width];
    }

    /// <summary>Filters <paramref name="source"/> into <paramref name="destination"/> (each one frame; they may be the same memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // fully optimized from the first frame: no slow tier-0 frames at the start
    public void Apply(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        FrameGeometry g = _geometry;
        int w = g.Width, h = g.Height;
        if (source.Length < g.FrameSize || destination.Length < g.FrameSize)
        {
            throw new ArgumentException($"a {g} frame is {g.FrameSize} bytes");
        }

        byte[] above = _rows[0], current = _rows[1], below = _rows[2];
        source[..w].CopyTo(current);
        source.Slice(Math.Min(1, h - 1) * w, w).CopyTo(below);
        current.CopyTo(above); // the row above the first is the first (clamped)
        for (int y = 0; y < h; y++)
        {
            BlurRow(above, current, below, destination.Slice(y * w, w));

            // Slide the window down: the next "below" row is copied from the source before the destination row that
            // would overwrite it in place is written (rows up to y are written; y + 2 is not yet).
            byte[] spare = above;
            above = current;
            current = below;
            int next = y + 2;
            if (next < h)
            {
                source.Slice(next * w, w).CopyTo(spare);
                below = spare;
            }
            else
            {
                below = current; // the row below the last is the last (clamped)
            }
        }

        destination.Slice(g.LumaSize, 2 * g.ChromaSize).Fill(128);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BlurRow(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, Span<byte> output)
    {
        int w = output.Length;
        Span<ushort> col = _columns;
        int x = 0;
        int bytesPerVector = Vector<byte>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; x + bytesPerVector <= w; x += bytesPerVector)
            {
                Vector.Widen(new Vector<byte>(a[x..]), out Vector<ushort> a0, out Vector<ushort> a1);
                Vector.Widen(new Vector<byte>(b[x..]), out Vector<ushort> b0, out Vector<ushort> b1);
                Vector.Widen(new Vector<byte>(c[x..]), out Vector<ushort> c0, out Vector<ushort> c1);
                (a0 + b0 + c0).CopyTo(col[x..]);
                (a1 + b1 + c1).CopyTo(col[(x + Vector<ushort>.Count)..]);
            }
        }

        for (; x < w; x++)
        {
            col[x] = (ushort)(a[x] + b[x] + c[x]);
        }

        output[0] = Ninth(col[0] + col[0] + col[Math.Min(1, w - 1)]);
        x = 1;
        if (Vector.IsHardwareAccelerated)
        {
            int half = Vector<ushort>.Count;
            ReadOnlySpan<ushort> cols = col;
            for (; x + bytesPerVector + 1 <= w; x += bytesPerVector)
            {
                Vector<ushort> s0 = new Vector<ushort>(cols[(x - 1)..]) + new Vector<ushort>(cols[x..]) + new Vector<ushort>(cols[(x + 1)..]);
                Vector<ushort> s1 = new Vector<ushort>(cols[(x - 1 + half)..]) + new Vector<ushort>(cols[(x + half)..]) + new Vector<ushort>(cols[(x + 1 + half)..]);
                Vector.Narrow(Ninth(s0), Ninth(s1)).CopyTo(output[x..]);
            }
        }

        for (; x < w - 1; x++)
        {
            output[x] = Ninth(col[x - 1] + col[x] + col[x + 1]);
        }

        if (w > 1)
        {
            output[w - 1] = Ninth(col[w - 2] + col[w - 1] + col[w - 1]);
        }
    }

    private static byte Ninth(int sum) => (byte)((uint)sum * NinthMultiplier >> 16);

    private static Vector<ushort> Ninth(Vector<ushort> sums)
    {
        Vector.Widen(sums, out Vector<uint> lo, out Vector<uint> hi);
        return Vector.Narrow(Vector.ShiftRightLogical(lo * NinthMultiplier, 16), Vector.ShiftRightLogical(hi * NinthMultiplier, 16));
    }

    /// <summary>Whether the multiply-shift equals the division for every sum a 3×3 window of bytes can have (for the test).</summary>
    internal static bool NinthIsExact()
    {
        for (int s = 0; s <= 9 * 255; s++)
        {
            if (Ninth(s) != s / 9)
            {
                return false;
            }
        }

        return true;
    }
}
