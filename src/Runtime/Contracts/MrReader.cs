using System.Diagnostics.CodeAnalysis;
using L4Rt.Ipc;

namespace L4Rt.Contracts;

/// <summary>
/// Reads what an <see cref="MrWriter"/> wrote, checking each value's type tag: a value of another type, a length past
/// the words that arrived or the end of the message makes <c>Try…</c> return false and <c>Read…</c> throw
/// <see cref="L4RtException"/> with <see cref="L4Status.ProtocolViolation"/> and what was expected and found — never a
/// garbage value. Over the received words only (<c>thread.Utcb.Mr[..tag.Words]</c>).
/// </summary>
public ref struct MrReader
{
    private readonly ReadOnlySpan<ulong> _mr;
    private int _at;
    private int _index;

    /// <summary>A reader of <paramref name="words"/>: the words of a received message.</summary>
    public MrReader(ReadOnlySpan<ulong> words) => _mr = words;

    /// <summary>Words not read yet.</summary>
    public readonly int Remaining => _mr.Length - _at;

    /// <summary>Reads the next value as a <typeparamref name="T"/>; false (nothing consumed) when it is not one.</summary>
    public bool TryRead<T>(out T value)
        where T : unmanaged
    {
        int words = ContractWords.WordsOf<T>();
        if (_at >= _mr.Length || _mr[_at] != DynamicTypeTag.Of<T>.Tag || words > _mr.Length - _at - 1)
        {
            value = default;
            return false;
        }

        value = typeof(T) == typeof(bool)
            ? (T)(object)ContractWords.GetBool(_mr, _at + 1) // folded by the JIT for bool: no boxing
            : ContractWords.Get<T>(_mr, _at + 1);
        _at += 1 + words;
        _index++;
        return true;
    }

    /// <summary>Reads the next value as a <typeparamref name="T"/>; throws when it is not one.</summary>
    public T Read<T>()
        where T : unmanaged
    {
        if (!TryRead(out T value))
        {
            ThrowMismatch(DynamicTypeTag.Describe(DynamicTypeTag.Of<T>.Tag));
        }

        return value;
    }

    /// <summary>Reads the next value as a string (null when null was written); false when it is not one.</summary>
    public bool TryReadString(out string? value)
    {
        value = null;
        if (_at >= _mr.Length)
        {
            return false;
        }

        ulong tag = _mr[_at];
        if (tag == DynamicTypeTag.Make(DynamicTypeTag.NullString, 0))
        {
            _at++;
            _index++;
            return true;
        }

        int at = _at + 1;
        if (DynamicTypeTag.Kind(tag) != DynamicTypeTag.String || !ContractWords.TryGetString(_mr, ref at, _mr.Length, out value)
            || value is null || (ulong)DynamicTypeTag.Size(tag) != _mr[_at + 1])
        {
            value = null;
            return false;
        }

        _at = at;
        _index++;
        return true;
    }

    /// <summary>Reads the next value as a string; throws when it is not one.</summary>
    public string? ReadString()
    {
        if (!TryReadString(out string? value))
        {
            ThrowMismatch("String");
        }

        return value;
    }

    /// <summary>Reads the next value as bytes (a view of the registers, valid until the thread's next IPC); false when it is not.</summary>
    public bool TryReadBytes(out ReadOnlySpan<byte> value)
    {
        value = default;
        if (_at >= _mr.Length)
        {
            return false;
        }

        ulong tag = _mr[_at];
        int at = _at + 1;
        if (DynamicTypeTag.Kind(tag) != DynamicTypeTag.Bytes || !ContractWords.TryGetBytes(_mr, ref at, _mr.Length, out value)
            || value.Length != DynamicTypeTag.Size(tag))
        {
            value = default;
            return false;
        }

        _at = at;
        _index++;
        return true;
    }

    /// <summary>Reads the next value as bytes; throws when it is not.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        if (!TryReadBytes(out ReadOnlySpan<byte> value))
        {
            ThrowMismatch("bytes");
        }

        return value;
    }

    [DoesNotReturn]
    private readonly void ThrowMismatch(string expected)
    {
        string found = _at >= _mr.Length ? "the end of the message" : DynamicTypeTag.Describe(_mr[_at]);
        throw new L4RtException(L4Status.ProtocolViolation, $"value {_index} of the message (word {_at}): expected {expected}, found {found}");
    }
}
