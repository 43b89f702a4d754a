using System;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace L4Rt.Contracts.Generator;

/// <summary>
/// The size of an unmanaged type as the runtime lays it out (sequential or explicit layout, natural alignment), for the
/// message-register budget. The generated code does not trust it: offsets come from <c>Unsafe.SizeOf</c> at run time.
/// </summary>
internal static class Layout
{
    public readonly struct Info
    {
        public Info(int size, int align)
        {
            Size = size;
            Align = align;
        }

        public int Size { get; }

        public int Align { get; }
    }

    public static Info? SizeOf(ITypeSymbol type, int depth)
    {
        if (depth > 16)
        {
            return null;
        }

        switch (type.SpecialType)
        {
            case SpecialType.System_Boolean or SpecialType.System_Byte or SpecialType.System_SByte:
                return new Info(1, 1);
            case SpecialType.System_Char or SpecialType.System_Int16 or SpecialType.System_UInt16:
                return new Info(2, 2);
            case SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Single:
                return new Info(4, 4);
            case SpecialType.System_Int64 or SpecialType.System_UInt64 or SpecialType.System_Double or SpecialType.System_IntPtr or SpecialType.System_UIntPtr:
                return new Info(8, 8);
            case SpecialType.System_Decimal or SpecialType.System_DateTime:
                return type.SpecialType == SpecialType.System_Decimal ? new Info(16, 8) : new Info(8, 8);
        }

        if (type is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } underlying })
        {
            return SizeOf(underlying, depth + 1);
        }

        switch (type.ToDisplayString())
        {
            case "System.Guid":
                return new Info(16, 4);
            case "System.TimeSpan":
                return new Info(8, 8);
            case "System.DateTimeOffset":
                return new Info(16, 8);
            case "System.Half":
                return new Info(2, 2);
            case "System.Int128" or "System.UInt128":
                return new Info(16, 16);
        }

        if (type is not INamedTypeSymbol { TypeKind: TypeKind.Struct } named)
        {
            return null;
        }

        IFieldSymbol[] fields = named.GetMembers().OfType<IFieldSymbol>().Where(f => !f.IsStatic && !f.IsConst).ToArray();
        AttributeData? inline = named.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "System.Runtime.CompilerServices.InlineArrayAttribute");
        if (inline is { ConstructorArguments.Length: 1 } && inline.ConstructorArguments[0].Value is int length && fields.Length == 1)
        {
            return SizeOf(fields[0].Type, depth + 1) is { } element ? new Info(element.Size * length, element.Align) : null;
        }

        int size = 0, align = 1;
        bool explicitLayout = named.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.Runtime.InteropServices.StructLayoutAttribute"
            && a.ConstructorArguments.Length == 1 && a.ConstructorArguments[0].Value is int kind && kind == 2);
        foreach (IFieldSymbol field in fields)
        {
            if (SizeOf(field.Type, depth + 1) is not { } f)
            {
                return null;
            }

            align = Math.Max(align, f.Align);
            if (explicitLayout)
            {
                int offset = field.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "System.Runtime.InteropServices.FieldOffsetAttribute")
                    is { ConstructorArguments.Length: 1 } fo && fo.ConstructorArguments[0].Value is int o ? o : 0;
                size = Math.Max(size, offset + f.Size);
            }
            else
            {
                size = ((size + f.Align - 1) / f.Align * f.Align) + f.Size;
            }
        }

        size = Math.Max(1, (size + align - 1) / align * align);
        return new Info(size, align);
    }
}
