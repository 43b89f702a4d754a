using System.Runtime.CompilerServices;

namespace L4Rt.Contracts;

/// <summary>
/// The type tag word <see cref="MrWriter"/> puts before each value and <see cref="MrReader"/> checks: bits 0–7 the
/// kind, bits 8–31 the size in bytes (of the value, or of a string's UTF-8 / a span's bytes), bits 32–63 a hash of
/// the type's full name for other unmanaged types (0 for the built-in kinds).
/// </summary>
internal static class DynamicTypeTag
{
    internal const ulong Bool = 1, Byte = 2, SByte = 3, Int16 = 4, UInt16 = 5, Int32 = 6, UInt32 = 7, Int64 = 8, UInt64 = 9,
        Single = 10, Double = 11, Char = 12, String = 13, Bytes = 14, Struct = 15, NullString = 16;

    internal static ulong Kind(ulong tag) => tag & 0xFF;

    internal static int Size(ulong tag) => (int)((tag >> 8) & 0xFF_FFFF);

    internal static ulong Make(ulong kind, int size, uint hash = 0) => ((ulong)hash << 32) | ((ulong)(uint)size << 8) | kind;

    internal static string Describe(ulong tag) => Kind(tag) switch
    {
        Bool => "Boolean",
        Byte => "Byte",
        SByte => "SByte",
        Int16 => "Int16",
        UInt16 => "UInt16",
        Int32 => "Int32",
        UInt32 => "UInt32",
        Int64 => "Int64",
        UInt64 => "UInt64",
        Single => "Single",
        Double => "Double",
        Char => "Char",
        String or NullString => "String",
        Bytes => "bytes",
        Struct => $"a {Size(tag)}-byte struct (type hash {tag >> 32:x8})",
        _ => $"an unknown type tag 0x{tag:x}",
    };

    /// <summary>The tag of <typeparamref name="T"/>, computed once per type.</summary>
    internal static class Of<T>
        where T : unmanaged
    {
        internal static readonly ulong Tag = Compute();

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ulong Compute()
        {
            Type t = typeof(T);
            ulong kind = t == typeof(bool) ? Bool
                : t == typeof(byte) ? Byte
                : t == typeof(sbyte) ? SByte
                : t == typeof(short) ? Int16
                : t == typeof(ushort) ? UInt16
                : t == typeof(int) ? Int32
                : t == typeof(uint) ? UInt32
                : t == typeof(long) ? Int64
                : t == typeof(ulong) ? UInt64
                : t == typeof(float) ? Single
                : t == typeof(double) ? Double
                : t == typeof(char) ? Char
                : Struct;
            return Make(kind, Unsafe.SizeOf<T>(), kind == Struct ? Fnv1a(t.FullName ?? t.Name) : 0);
        }

        private static uint Fnv1a(string name)
        {
            uint hash = 2166136261;
            foreach (char c in name)
            {
                hash = (hash ^ c) * 16777619;
            }

            return hash;
        }
    }
}
