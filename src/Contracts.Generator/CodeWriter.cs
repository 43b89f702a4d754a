using System.Text;

namespace L4Rt.Contracts.Generator;

/// <summary>Source text with indentation: <see cref="Line"/> writes one line, <see cref="Open"/>/<see cref="Close"/> a block.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _text = new();
    private int _depth;

    public CodeWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            _text.Append(' ', _depth * 4);
        }

        _text.Append(line).Append('\n');
        return this;
    }

    public CodeWriter Open(string line)
    {
        Line(line);
        Line("{");
        _depth++;
        return this;
    }

    public CodeWriter Close(string end = "}")
    {
        _depth--;
        return Line(end);
    }

    public override string ToString() => _text.ToString();
}
