using System.Globalization;
using System.Text;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// One raw I420 (YUV 4:2:0 planar) frame: the luma plane (<see cref="Width"/> × <see cref="Height"/> bytes), then
/// the U and the V plane (a quarter of that each). Both sides of every channel compute the sizes from this one type.
/// </summary>
internal sealed class FrameGeometry
{
    /// <summary>A geometry of even, positive dimensions (4:2:0 halves both).</summary>
    public FrameGeometry(int width, int height, int fps)
    {
        if (width < 4 || height < 4 || width % 2 != 0 || height % 2 != 0 || width > 7680 || height > 4320)
        {
            throw new ArgumentException($"a frame of {width}×{height}: width and height must be even, from 4 to 7680×4320");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(fps, 1);
        Width = width;
        Height = height;
        Fps = fps;
    }

    /// <summary>Frame width in pixels (even).</summary>
    public int Width { get; }

    /// <summary>Frame height in pixels (even).</summary>
    public int Height { get; }

    /// <summary>The nominal frame rate (what the source paces to unless unthrottled, and what the .y4m header says).</summary>
    public int Fps { get; }

    /// <summary>Bytes of the Y plane.</summary>
    public int LumaSize => Width * Height;

    /// <summary>Width of the U and V planes.</summary>
    public int ChromaWidth => Width / 2;

    /// <summary>Height of the U and V planes.</summary>
    public int ChromaHeight => Height / 2;

    /// <summary>Bytes of the U plane (and of the V plane).</summary>
    public int ChromaSize => ChromaWidth * ChromaHeight;

    /// <summary>Bytes of one frame: Y, then U, then V.</summary>
    public int FrameSize => LumaSize + 2 * ChromaSize;

    /// <summary>The YUV4MPEG2 stream header (full-range 4:2:0, progressive, square pixels), ended by a newline.</summary>
    public byte[] Y4mHeader() => Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"YUV4MPEG2 W{Width} H{Height} F{Fps}:1 Ip A1:1 C420jpeg\n"));

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Width}x{Height}");
}
