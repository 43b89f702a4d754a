using System.Runtime.CompilerServices;

namespace L4Rt.Samples.MediaStream;

// Linked as source into the tests, which compute the expected output from the pure functions below.
/// <summary>
/// The source's moving test pattern, a pure function of (frame, x, y): a diagonal luma ramp scrolling by 4 levels a
/// frame, a white square sliding across, and chroma ramps moving at their own speeds. <see cref="Render"/> draws it
/// with row copies from a preallocated ramp (no per-pixel arithmetic, no allocation per frame).
/// </summary>
internal sealed class TestPattern
{
    private readonly FrameGeometry _geometry;
    private readonly byte[] _ramp; // _ramp[i] == (byte)i, long enough for a row starting at any of the 256 phases

    /// <summary>A renderer for frames of <paramref name="geometry"/> (allocates its ramp once).</summary>
    public TestPattern(FrameGeometry geometry)
    {
        _geometry = geometry;
        _ramp = new byte[256 + geometry.Width];
        for (int i = 0; i < _ramp.Length; i++)
        {
            _ramp[i] = (byte)i;
        }
    }

    /// <summary>The luma of pixel (x, y) in frame <paramref name="frame"/>.</summary>
    public static byte Luma(long frame, int x, int y, int width, int height)
    {
        (int bx, int by, int size) = Square(frame, width, height);
        return x >= bx && x < bx + size && y >= by && y < by + size ? (byte)235 : (byte)(x + (2 * y) + (4 * frame));
    }

    /// <summary>The U sample at chroma position (cx, cy).</summary>
    public static byte U(long frame, int cx, int cy) => (byte)(cx + (3 * frame));

    /// <summary>The V sample at chroma position (cx, cy).</summary>
    public static byte V(long frame, int cx, int cy) => (byte)((4 * cy) + frame);

    /// <summary>Where the white square is in a frame: its left, top and side.</summary>
    public static (int X, int Y, int Size) Square(long frame, int width, int height)
    {
        int size = Math.Max(2, height / 4);
        return ((int)(frame * 4 % (width - size + 1)), (int)(frame * 2 % (height - size + 1)), size);
    }

    /// <summary>Draws frame <paramref name="frame"/> into <paramref name="destination"/> (<see cref="FrameGeometry.FrameSize"/> bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // fully optimized from the first frame
    public void Render(long frame, Span<byte> destination)
    {
        FrameGeometry g = _geometry;
        int w = g.Width;
        Span<byte> luma = destination[..g.LumaSize];
        for (int y = 0; y < g.Height; y++)
        {
            _ramp.AsSpan((int)(((2 * y) + (4 * frame)) & 255), w).CopyTo(luma.Slice(y * w, w));
        }

        (int bx, int by, int size) = Square(frame, w, g.Height);
        for (int y = by; y < by + size; y++)
        {
            luma.Slice((y * w) + bx, size).Fill(235);
        }

        int cw = g.ChromaWidth;
        Span<byte> u = destination.Slice(g.LumaSize, g.ChromaSize);
        Span<byte> v = destination.Slice(g.LumaSize + g.ChromaSize, g.ChromaSize);
        ReadOnlySpan<byte> uRow = _ramp.AsSpan((int)((3 * frame) & 255), cw);
        for (int cy = 0; cy < g.ChromaHeight; cy++)
        {
            uRow.CopyTo(u.Slice(cy * cw, cw));
            v.Slice(cy * cw, cw).Fill(V(frame, 0, cy));
        }
    }
}
