using System.Diagnostics.CodeAnalysis;
using L4Rt.Ipc;

namespace L4Rt.Contracts;

/// <summary>
/// Dynamic marshalling, for ad-hoc messages and for comparison with generated contracts: writes values one after the
/// other into message registers, each preceded by a type tag word that <see cref="MrReader"/> checks
/// (<c>new MrWriter(thread.Utcb.Mr).Write(42).Write(2.5).Write("name")</c>, then <see cref="ToTag"/>). A value that no
/// longer fits marks the writer overflowed (<see cref="IsOverflowed"/>) and <see cref="ToTag"/> throws; nothing is
/// allocated. Costs one tag word per value more than a generated contract.
/// </summary>
public ref struct MrWriter
{
    private readonly Span<ulong> _mr;
    private int _at;
    private bool _overflowed;

    /// <summary>A writer starting at MR0 of <paramref name="mr"/> (a thread's <see cref="Utcb.Mr"/>).</summary>
    public MrWriter(Span<ulong> mr) => _mr = mr;

    /// <summary>The words written so far (tags included).</summary>
    public readonly int Words => _at;

    /// <summary>Whether a value did not fit (it and every later one were dropped).</summary>
    public readonly bool IsOverflowed => _overflowed;

    /// <summary>Writes an unmanaged value: its tag word, then its bytes in whole words.</summary>
    [UnscopedRef]
    public ref MrWriter Write<T>(T value)
        where T : unmanaged
    {
        int words = ContractWords.WordsOf<T>();
        if (!Room(1 + words))
        {
            return ref this;
        }

        _mr[_at] = DynamicTypeTag.Of<T>.Tag;
        if (typeof(T) == typeof(bool))
        {
            ContractWords.PutBool(_mr, _at + 1, System.Runtime.CompilerServices.Unsafe.As<T, bool>(ref value));
        }
        else
        {
            ContractWords.Put(_mr, _at + 1, value);
        }

        _at += 1 + words;
        return ref this;
    }

    /// <summary>Writes a string (UTF-8; null stays null).</summary>
    [UnscopedRef]
    public ref MrWriter Write(string? value)
    {
        if (_overflowed || _at >= _mr.Length)
        {
            _overflowed = true;
            return ref this;
        }

        if (value is null)
        {
            _mr[_at++] = DynamicTypeTag.Make(DynamicTypeTag.NullString, 0);
            return ref this;
        }

        int end = ContractWords.PutString(_mr, _at + 1, _mr.Length, value);
        if (end < 0 || _mr[_at + 1] > 0xFF_FFFF)
        {
            _overflowed = true;
            return ref this;
        }

        _mr[_at] = DynamicTypeTag.Make(DynamicTypeTag.String, (int)_mr[_at + 1]);
        _at = end;
        return ref this;
    }

    /// <summary>Writes a run of bytes.</summary>
    [UnscopedRef]
    public ref MrWriter Write(ReadOnlySpan<byte> value)
    {
        int end = _overflowed || _at >= _mr.Length ? -1 : ContractWords.PutBytes(_mr, _at + 1, _mr.Length, value);
        if (end < 0)
        {
            _overflowed = true;
            return ref this;
        }

        _mr[_at] = DynamicTypeTag.Make(DynamicTypeTag.Bytes, value.Length);
        _at = end;
        return ref this;
    }

    /// <summary>The tag of the message written, with <paramref name="protocol"/>; throws when a value did not fit.</summary>
    public readonly MsgTag ToTag(int protocol)
    {
        if (_overflowed)
        {
            ThrowOverflow();
        }

        return new MsgTag(protocol, _at);
    }

    private bool Room(int words)
    {
        if (_overflowed || words > _mr.Length - _at)
        {
            _overflowed = true;
            return false;
        }

        return true;
    }

    [DoesNotReturn]
    private static void ThrowOverflow() =>
        throw new InvalidOperationException($"The values written do not fit in {MsgTag.MaxWords} message registers (one tag word per value, then its words).");
}
