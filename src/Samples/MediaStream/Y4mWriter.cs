using Microsoft.Win32.SafeHandles;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// Writes a YUV4MPEG2 (.y4m) file: the stream header, then per frame <c>FRAME\n</c> and the three planes. Frames are
/// written with positional writes straight from where they are (the ring record or the pool slot): no copy, no
/// allocation per frame.
/// </summary>
internal sealed class Y4mWriter : IDisposable
{
    private static readonly byte[] s_frameMarker = "FRAME\n"u8.ToArray();
    private readonly SafeFileHandle _file;
    private long _offset;

    /// <summary>Creates (or truncates) <paramref name="path"/> and writes the stream header.</summary>
    public Y4mWriter(string path, FrameGeometry geometry)
    {
        _file = File.OpenHandle(path, FileMode.Create, FileAccess.Write);
        Append(geometry.Y4mHeader());
    }

    /// <summary>Appends one frame.</summary>
    public void WriteFrame(ReadOnlySpan<byte> frame)
    {
        Append(s_frameMarker);
        Append(frame);
    }

    /// <inheritdoc/>
    public void Dispose() => _file.Dispose();

    private void Append(ReadOnlySpan<byte> bytes)
    {
        RandomAccess.Write(_file, bytes, _offset);
        _offset += bytes.Length;
    }
}
