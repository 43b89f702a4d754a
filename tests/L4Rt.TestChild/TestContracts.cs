using System.Runtime.InteropServices;
using L4Rt.Contracts;
using L4Rt.Objects;
using Protocol = L4Rt.Protocol;

// The contracts of the contract tests, compiled (and generated) in the test child and in the tests alike, with the
// implementations the child serves: every parameter kind, a one-way send, a fault, a channel contract with states,
// and a second version of one contract for the mismatch test.

namespace L4Rt.TestChild;

/// <summary>A plain struct parameter (three words).</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct Point3(long X, long Y, long Z);

/// <summary>A small struct (one word, two fields).</summary>
public readonly record struct Offset2(int Dx, int Dy);

/// <summary>Every parameter kind the generator supports.</summary>
[L4RtContract(Id = 100, Version = 1)]
public interface ICalculator
{
    /// <summary>a + b.</summary>
    [L4RtOperation(1)]
    int Add(int a, int b);

    /// <summary>x × factor.</summary>
    [L4RtOperation(2)]
    double Scale(double x, long factor);

    /// <summary>Whether value is even.</summary>
    [L4RtOperation(3)]
    bool IsEven(ulong value);

    /// <summary>p moved by d (z stays).</summary>
    [L4RtOperation(4)]
    Point3 Move(Point3 p, Offset2 d, bool flipZ);

    /// <summary>"hello, NAME" (null: "hello, nobody").</summary>
    [L4RtOperation(5)]
    string Greet(string? name);

    /// <summary>The sum of the bytes.</summary>
    [L4RtOperation(6)]
    long Sum(ReadOnlySpan<byte> data);

    /// <summary>The bytes reversed.</summary>
    [L4RtOperation(7)]
    ReadOnlySpan<byte> Reverse(ReadOnlySpan<byte> data);

    /// <summary>Adds value to a total kept by the server (one way: no reply).</summary>
    [L4RtOperation(8)]
    [L4RtOneWay]
    void Note(long value);

    /// <summary>The total of the values noted.</summary>
    [L4RtOperation(9)]
    long Total();

    /// <summary>The kind and rights of the capability that arrived, as "Kind/Rights".</summary>
    [L4RtOperation(10)]
    string Describe(Capability capability, int tag);

    /// <summary>Throws in the server.</summary>
    [L4RtOperation(11)]
    void Fail();

    /// <summary>The sum of the bytes of the pages lent (mapped into the server's receive window), with their size.</summary>
    [L4RtOperation(12)]
    long Checksum(Flexpage pages, long add);

    /// <summary>The calculator's own gate (send and map rights): a capability result.</summary>
    [L4RtOperation(13)]
    Gate Self();

    /// <summary>A new page filled with fill, lent read-only: a flexpage result.</summary>
    [L4RtOperation(14)]
    Flexpage Snapshot(byte fill);
}

/// <summary>Version 2 of <see cref="ICalculator"/> (Add takes longs): a version-1 server must refuse it.</summary>
[L4RtContract(Id = 100, Version = 2)]
public interface ICalculatorV2
{
    /// <summary>a + b.</summary>
    [L4RtOperation(1)]
    long Add(long a, long b);
}

/// <summary>A channel contract: a file is opened, read, closed; reading a closed file is out of protocol.</summary>
[L4RtContract(Id = 101, Version = 1)]
[L4RtState("Closed", Initial = true)]
[L4RtState("Opened")]
public interface IFileSession
{
    /// <summary>Opens name; returns its length.</summary>
    [L4RtOperation(1, AllowedIn = "Closed", Next = "Opened")]
    int Open(string name);

    /// <summary>Reads count bytes; returns how many there were.</summary>
    [L4RtOperation(2, AllowedIn = "Opened")]
    int Read(int count);

    /// <summary>Closes the file.</summary>
    [L4RtOperation(3, AllowedIn = "Opened", Next = "Closed")]
    void Close();

    /// <summary>Allowed in every state: how many files were opened.</summary>
    [L4RtOperation(4)]
    int Opens();
}

/// <summary>The child's calculator.</summary>
public sealed class CalculatorService : ICalculator
{
    private readonly byte[] _reversed = new byte[MsgTagWords * 8];
    private long _total;

    private const int MsgTagWords = 63;

    /// <inheritdoc/>
    public int Add(int a, int b) => a + b;

    /// <inheritdoc/>
    public double Scale(double x, long factor) => x * factor;

    /// <inheritdoc/>
    public bool IsEven(ulong value) => value % 2 == 0;

    /// <inheritdoc/>
    public Point3 Move(Point3 p, Offset2 d, bool flipZ) => new(p.X + d.Dx, p.Y + d.Dy, flipZ ? -p.Z : p.Z);

    /// <inheritdoc/>
    public string Greet(string? name) => "hello, " + (name ?? "nobody");

    /// <inheritdoc/>
    public long Sum(ReadOnlySpan<byte> data)
    {
        long sum = 0;
        foreach (byte b in data)
        {
            sum += b;
        }

        return sum;
    }

    /// <inheritdoc/>
    public ReadOnlySpan<byte> Reverse(ReadOnlySpan<byte> data)
    {
        Span<byte> result = _reversed.AsSpan(0, data.Length);
        data.CopyTo(result);
        result.Reverse();
        return result;
    }

    /// <inheritdoc/>
    public void Note(long value) => _total += value;

    /// <inheritdoc/>
    public long Total() => _total;

    /// <inheritdoc/>
    public string Describe(Capability capability, int tag) => $"{capability.Kind}/{capability.Rights}/{tag}";

    /// <summary>What <see cref="Self"/> returns (set by the server once its gate exists).</summary>
    public Gate? SelfGate { get; set; }

    /// <summary>Where <see cref="Snapshot"/> creates its dataspaces.</summary>
    public L4Task? Task { get; set; }

    /// <inheritdoc/>
    public Gate Self() => SelfGate ?? throw new InvalidOperationException("no gate yet");

    /// <inheritdoc/>
    public Flexpage Snapshot(byte fill)
    {
        L4Task task = Task ?? throw new InvalidOperationException("no task");
        Dataspace page = task.Factory.CreateDataspaceAsync(Protocol.ProtocolLimits.PageSize).GetAwaiter().GetResult();
        using (DataspaceMapping mine = page.MapAsync(Protocol.CapRights.Write).GetAwaiter().GetResult())
        {
            mine.Span.Fill(fill);
        }

        return new Flexpage(page, 0, Protocol.ProtocolLimits.PageSize, Protocol.CapRights.Read);
    }

    /// <inheritdoc/>
    public void Fail() => throw new InvalidOperationException("the calculator fails on purpose");

    /// <inheritdoc/>
    public long Checksum(Flexpage pages, long add)
    {
        using DataspaceMapping mapping = pages.Mapping!; // the server owns what arrived: unmap it when done
        long sum = Sum(mapping.ReadOnlySpan);
        return sum + add + (pages.Size << 32);
    }
}

/// <summary>The child's file session: every name is a file of name.Length × 10 bytes.</summary>
public sealed class FileSessionService : IFileSession
{
    private int _opens;

    /// <inheritdoc/>
    public int Open(string name)
    {
        _opens++;
        return name.Length * 10;
    }

    /// <inheritdoc/>
    public int Read(int count) => count;

    /// <inheritdoc/>
    public void Close()
    {
    }

    /// <inheritdoc/>
    public int Opens() => _opens;
}
