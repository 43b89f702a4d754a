using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace L4Rt.Tests.Layers;

/// <summary>
/// Which types of an assembly use which other types of the same assembly, read from its metadata: base types,
/// interfaces, field, method, property and local signatures, and every type, method and field token in method
/// bodies (IL), with generic instantiations taken apart. Nested and compiler-generated types (closures, state
/// machines, extension markers) count as their outermost type.
/// </summary>
internal sealed class TypeGraph
{
    private static readonly Dictionary<short, OperandType> s_operands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value, o => o.OperandType);

    private readonly MetadataReader _md;
    private readonly PEReader _pe;
    private readonly Collector _collector = new();

    private TypeGraph(PEReader pe)
    {
        _pe = pe;
        _md = pe.GetMetadataReader();
    }

    /// <summary>Distinct (user, used) pairs of outermost type names, self-edges left out.</summary>
    internal static HashSet<(string From, string To)> Edges(string assemblyPath)
    {
        using FileStream file = File.OpenRead(assemblyPath);
        using PEReader pe = new(file);
        return new TypeGraph(pe).Build();
    }

    /// <summary>Every outermost type defined in the assembly.</summary>
    internal static List<string> Types(string assemblyPath)
    {
        using FileStream file = File.OpenRead(assemblyPath);
        using PEReader pe = new(file);
        TypeGraph graph = new(pe);
        return [.. graph._md.TypeDefinitions.Where(t => graph._md.GetTypeDefinition(t).GetDeclaringType().IsNil).Select(graph.Name)];
    }

    private HashSet<(string, string)> Build()
    {
        HashSet<(string, string)> edges = [];
        foreach (TypeDefinitionHandle handle in _md.TypeDefinitions)
        {
            _collector.Found.Clear();
            TypeDefinition type = _md.GetTypeDefinition(handle);
            Entity(type.BaseType);
            foreach (InterfaceImplementationHandle i in type.GetInterfaceImplementations())
            {
                Entity(_md.GetInterfaceImplementation(i).Interface);
            }

            foreach (FieldDefinitionHandle f in type.GetFields())
            {
                _md.GetFieldDefinition(f).DecodeSignature(_collector, null);
            }

            foreach (PropertyDefinitionHandle p in type.GetProperties())
            {
                _md.GetPropertyDefinition(p).DecodeSignature(_collector, null);
            }

            foreach (MethodDefinitionHandle m in type.GetMethods())
            {
                Method(_md.GetMethodDefinition(m));
            }

            string from = Name(Outermost(handle));
            foreach (TypeDefinitionHandle used in _collector.Found)
            {
                string to = Name(Outermost(used));
                if (to != from)
                {
                    edges.Add((from, to));
                }
            }
        }

        return edges;
    }

    private void Method(MethodDefinition method)
    {
        method.DecodeSignature(_collector, null);
        if (method.RelativeVirtualAddress == 0)
        {
            return;
        }

        MethodBodyBlock body = _pe.GetMethodBody(method.RelativeVirtualAddress);
        if (!body.LocalSignature.IsNil)
        {
            _md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(_collector, null);
        }

        BlobReader il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            short code = il.ReadByte();
            if (code == 0xFE)
            {
                code = (short)(0xFE00 | il.ReadByte());
            }

            if (!s_operands.TryGetValue(code, out OperandType operand))
            {
                throw new InvalidDataException($"unknown opcode 0x{code:x} at IL offset {il.Offset - 1} of {_md.GetString(method.Name)} in {Name(method.GetDeclaringType())}");
            }

            switch (operand)
            {
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineTok:
                case OperandType.InlineType:
                case OperandType.InlineSig:
                    Entity(MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    il.Offset += 1;
                    break;
                case OperandType.InlineVar:
                    il.Offset += 2;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    il.Offset += 8;
                    break;
                case OperandType.InlineSwitch:
                    int targets = il.ReadInt32(); // read before Offset: "Offset += 4 * ReadInt32()" would read Offset first
                    il.Offset += 4 * targets;
                    break;
                default: // InlineBrTarget, InlineI, InlineString, ShortInlineR
                    il.Offset += 4;
                    break;
            }
        }
    }

    private void Entity(EntityHandle handle)
    {
        if (handle.IsNil)
        {
            return;
        }

        switch (handle.Kind)
        {
            case HandleKind.TypeDefinition:
                _collector.Found.Add((TypeDefinitionHandle)handle);
                break;
            case HandleKind.TypeSpecification:
                _md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(_collector, null);
                break;
            case HandleKind.MethodDefinition:
                _collector.Found.Add(_md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType());
                break;
            case HandleKind.FieldDefinition:
                _collector.Found.Add(_md.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType());
                break;
            case HandleKind.MemberReference:
                MemberReference member = _md.GetMemberReference((MemberReferenceHandle)handle);
                Entity(member.Parent);
                if (member.GetKind() == MemberReferenceKind.Method)
                {
                    member.DecodeMethodSignature(_collector, null);
                }
                else
                {
                    member.DecodeFieldSignature(_collector, null);
                }

                break;
            case HandleKind.MethodSpecification:
                MethodSpecification spec = _md.GetMethodSpecification((MethodSpecificationHandle)handle);
                Entity(spec.Method);
                spec.DecodeSignature(_collector, null);
                break;
            case HandleKind.StandaloneSignature:
                StandaloneSignature sig = _md.GetStandaloneSignature((StandaloneSignatureHandle)handle);
                if (sig.GetKind() == StandaloneSignatureKind.Method)
                {
                    sig.DecodeMethodSignature(_collector, null);
                }

                break;
        }
    }

    private TypeDefinitionHandle Outermost(TypeDefinitionHandle handle)
    {
        while (_md.GetTypeDefinition(handle).GetDeclaringType() is { IsNil: false } outer)
        {
            handle = outer;
        }

        return handle;
    }

    private string Name(TypeDefinitionHandle handle)
    {
        TypeDefinition type = _md.GetTypeDefinition(handle);
        string ns = _md.GetString(type.Namespace);
        string name = _md.GetString(type.Name);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>Decodes signatures only to note every type definition of this assembly they mention.</summary>
    private sealed class Collector : ISignatureTypeProvider<bool, object?>
    {
        internal HashSet<TypeDefinitionHandle> Found { get; } = [];

        public bool GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => Found.Add(handle);

        public bool GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public bool GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => false;

        public bool GetArrayType(bool elementType, ArrayShape shape) => false;

        public bool GetByReferenceType(bool elementType) => false;

        public bool GetFunctionPointerType(MethodSignature<bool> signature) => false;

        public bool GetGenericInstantiation(bool genericType, ImmutableArray<bool> typeArguments) => false;

        public bool GetGenericMethodParameter(object? genericContext, int index) => false;

        public bool GetGenericTypeParameter(object? genericContext, int index) => false;

        public bool GetModifiedType(bool modifier, bool unmodifiedType, bool isRequired) => false;

        public bool GetPinnedType(bool elementType) => false;

        public bool GetPointerType(bool elementType) => false;

        public bool GetPrimitiveType(PrimitiveTypeCode typeCode) => false;

        public bool GetSZArrayType(bool elementType) => false;
    }
}
