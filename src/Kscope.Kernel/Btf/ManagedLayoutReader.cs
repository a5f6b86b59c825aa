using Kscope.Native;
using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Kscope.Kernel.Btf;

/// <summary>
/// Reads [KernelStruct] types from an assembly file's metadata (System.Reflection.Metadata: no
/// loading, no reflection, trim-safe) and computes their layout with the CLR's rules for unmanaged
/// structs on 64-bit: Sequential (with Pack) or Explicit ([FieldOffset]), [StructLayout(Size)],
/// fixed buffers, enums by their underlying type, pointers and nint as 8 bytes, structs from
/// sibling assemblies in the same folder.
/// </summary>
public sealed class ManagedLayoutReader : IDisposable
{
    private const int PointerSize = 8;
    private const int DefaultPack = 8;
    private readonly string _directory;
    private readonly Dictionary<string, Module?> _modules = new(StringComparer.OrdinalIgnoreCase);
    private readonly Module _main;

    public ManagedLayoutReader(string assemblyPath)
    {
        _directory = Path.GetDirectoryName(Path.GetFullPath(assemblyPath)) ?? ".";
        _main = Open(assemblyPath) ?? throw new BadImageFormatException($"{assemblyPath}: not a .NET assembly (no metadata)");
    }

    /// <summary>Every struct with [KernelStruct] in the assembly, by full name.</summary>
    public IReadOnlyList<ManagedStructLayout> ReadKernelStructs()
    {
        var result = new List<ManagedStructLayout>();
        MetadataReader md = _main.Reader;
        foreach (TypeDefinitionHandle h in md.TypeDefinitions)
        {
            TypeDefinition type = md.GetTypeDefinition(h);
            if (FindAttribute(md, type.GetCustomAttributes(), "KernelStructAttribute") is not { } attribute)
            {
                continue;
            }
            (string kernelName, bool prefix) = DecodeKernelStruct(md, attribute);
            Layout layout = LayoutOf(_main, h, 0);
            result.Add(new ManagedStructLayout(FullName(md, h), kernelName, prefix, layout.Size, layout.Alignment, layout.Fields));
        }
        result.Sort((a, b) => string.CompareOrdinal(a.TypeName, b.TypeName));
        return result;
    }

    public void Dispose()
    {
        _main.Dispose();
        foreach (Module? m in _modules.Values)
        {
            m?.Dispose();
        }
    }

    private sealed record Module(PEReader Pe, MetadataReader Reader, string Path) : IDisposable
    {
        public void Dispose() => Pe.Dispose();
    }

    private sealed record Layout(int Size, int Alignment, IReadOnlyList<ManagedField> Fields);

    private static Module? Open(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        var pe = new PEReader(new MemoryStream(InputFile.ReadAllBytes(path)));
        if (!pe.HasMetadata)
        {
            pe.Dispose();
            return null;
        }
        return new Module(pe, pe.GetMetadataReader(), path);
    }

    private Layout LayoutOf(Module module, TypeDefinitionHandle handle, int depth)
    {
        if (depth > 32)
        {
            throw new BadImageFormatException($"{module.Path}: struct {FullName(module.Reader, handle)} nests too deeply (cyclic?)");
        }
        MetadataReader md = module.Reader;
        TypeDefinition type = md.GetTypeDefinition(handle);
        TypeLayout classLayout = type.GetLayout();
        int pack = classLayout.PackingSize == 0 ? DefaultPack : classLayout.PackingSize;
        bool isExplicit = (type.Attributes & TypeAttributes.LayoutMask) == TypeAttributes.ExplicitLayout;
        var fields = new List<ManagedField>();
        int offset = 0, end = 0, maxAlign = 1;
        foreach (FieldDefinitionHandle fh in type.GetFields())
        {
            FieldDefinition field = md.GetFieldDefinition(fh);
            if ((field.Attributes & FieldAttributes.Static) != 0)
            {
                continue;
            }
            string name = md.GetString(field.Name);
            FieldType ft = field.DecodeSignature(new SignatureProvider(this, module, depth), null);
            int align = Math.Min(ft.Alignment, pack);
            int at;
            if (isExplicit)
            {
                at = field.GetOffset();
            }
            else
            {
                at = AlignUp(offset, align);
            }
            offset = at + ft.Size;
            end = Math.Max(end, offset);
            maxAlign = Math.Max(maxAlign, align);
            CustomAttributeHandleCollection attributes = field.GetCustomAttributes();
            bool padding = FindAttribute(md, attributes, "KernelPaddingAttribute") is not null;
            string kernelPath = FindAttribute(md, attributes, "KernelFieldAttribute") is { } kf
                ? DecodeString(md, kf)
                : KernelNames.ToSnakeCase(name);
            bool fixedBuffer = FindAttribute(md, attributes, "FixedBufferAttribute") is not null;
            fields.Add(new ManagedField(name, at, ft.Size, kernelPath, padding, fixedBuffer));
        }
        int size = fields.Count == 0 ? 1 : AlignUp(end, maxAlign);
        if (classLayout.Size > size)
        {
            size = classLayout.Size;
        }
        return new Layout(size, maxAlign, fields);
    }

    private static int AlignUp(int value, int align) => (value + align - 1) / align * align;

    private readonly record struct FieldType(int Size, int Alignment)
    {
        public static FieldType Of(int size) => new(size, size);
    }

    private FieldType StructType(Module module, TypeDefinitionHandle handle, int depth)
    {
        MetadataReader md = module.Reader;
        TypeDefinition type = md.GetTypeDefinition(handle);
        if (IsEnum(md, type))
        {
            foreach (FieldDefinitionHandle fh in type.GetFields())
            {
                FieldDefinition f = md.GetFieldDefinition(fh);
                if ((f.Attributes & FieldAttributes.Static) == 0)
                {
                    return f.DecodeSignature(new SignatureProvider(this, module, depth + 1), null);
                }
            }
            return FieldType.Of(4);
        }
        Layout layout = LayoutOf(module, handle, depth + 1);
        return new FieldType(layout.Size, layout.Alignment);
    }

    private FieldType ReferencedType(Module module, TypeReferenceHandle handle, int depth)
    {
        MetadataReader md = module.Reader;
        TypeReference reference = md.GetTypeReference(handle);
        string ns = md.GetString(reference.Namespace);
        string name = md.GetString(reference.Name);
        if (ns == "System.Runtime.CompilerServices")
        {
            return new FieldType(0, 1); // custom modifiers (modreq IsVolatile…), never a field's own type
        }
        if (ns == "System")
        {
            switch (name)
            {
                case "IntPtr" or "UIntPtr":
                    return FieldType.Of(PointerSize);
                case "Guid":
                    return new FieldType(16, 4);
                case "Half":
                    return FieldType.Of(2);
                case "Int128" or "UInt128":
                    return new FieldType(16, 16);
            }
        }
        EntityHandle scope = reference.ResolutionScope;
        if (scope.Kind == HandleKind.TypeReference)
        {
            // A nested type: find the enclosing type, then the nested one.
            throw new BadImageFormatException($"{module.Path}: nested type {ns}.{name} from another assembly is not supported");
        }
        if (scope.Kind != HandleKind.AssemblyReference)
        {
            throw new BadImageFormatException($"{module.Path}: cannot resolve {ns}.{name}");
        }
        string assemblyName = md.GetString(md.GetAssemblyReference((AssemblyReferenceHandle)scope).Name);
        if (!_modules.TryGetValue(assemblyName, out Module? target))
        {
            target = Open(Path.Combine(_directory, assemblyName + ".dll"));
            _modules[assemblyName] = target;
        }
        if (target is null)
        {
            throw new FileNotFoundException($"layout of {ns}.{name} needs {assemblyName}.dll next to {Path.GetFileName(module.Path)}");
        }
        foreach (TypeDefinitionHandle h in target.Reader.TypeDefinitions)
        {
            TypeDefinition t = target.Reader.GetTypeDefinition(h);
            if (target.Reader.StringComparer.Equals(t.Name, name) && target.Reader.StringComparer.Equals(t.Namespace, ns))
            {
                return StructType(target, h, depth);
            }
        }
        throw new BadImageFormatException($"{assemblyName}.dll has no type {ns}.{name}");
    }

    private static bool IsEnum(MetadataReader md, TypeDefinition type)
    {
        if (type.BaseType.IsNil || type.BaseType.Kind != HandleKind.TypeReference)
        {
            return false;
        }
        TypeReference b = md.GetTypeReference((TypeReferenceHandle)type.BaseType);
        return md.StringComparer.Equals(b.Name, "Enum") && md.StringComparer.Equals(b.Namespace, "System");
    }

    private static CustomAttribute? FindAttribute(MetadataReader md, CustomAttributeHandleCollection attributes, string typeName)
    {
        foreach (CustomAttributeHandle h in attributes)
        {
            CustomAttribute a = md.GetCustomAttribute(h);
            StringHandle name = a.Constructor.Kind switch
            {
                HandleKind.MemberReference => md.GetMemberReference((MemberReferenceHandle)a.Constructor).Parent is { Kind: HandleKind.TypeReference } p
                    ? md.GetTypeReference((TypeReferenceHandle)p).Name : default,
                HandleKind.MethodDefinition => md.GetTypeDefinition(md.GetMethodDefinition((MethodDefinitionHandle)a.Constructor).GetDeclaringType()).Name,
                _ => default,
            };
            if (!name.IsNil && md.StringComparer.Equals(name, typeName))
            {
                return a;
            }
        }
        return null;
    }

    private static string DecodeString(MetadataReader md, CustomAttribute a)
    {
        BlobReader r = md.GetBlobReader(a.Value);
        if (r.ReadUInt16() != 1)
        {
            throw new BadImageFormatException("bad custom attribute prolog");
        }
        return r.ReadSerializedString() ?? "";
    }

    private static (string Name, bool Prefix) DecodeKernelStruct(MetadataReader md, CustomAttribute a)
    {
        BlobReader r = md.GetBlobReader(a.Value);
        if (r.ReadUInt16() != 1)
        {
            throw new BadImageFormatException("bad custom attribute prolog");
        }
        string name = r.ReadSerializedString() ?? "";
        bool prefix = false;
        ushort named = r.ReadUInt16();
        for (int i = 0; i < named; i++)
        {
            r.ReadByte(); // 0x53 field / 0x54 property
            byte type = r.ReadByte();
            string? member = r.ReadSerializedString();
            if (type == 0x02)
            {
                bool value = r.ReadBoolean();
                if (member == "Prefix")
                {
                    prefix = value;
                }
            }
            else
            {
                break; // only bool named arguments are defined
            }
        }
        return (name, prefix);
    }

    private static string FullName(MetadataReader md, TypeDefinitionHandle h)
    {
        TypeDefinition t = md.GetTypeDefinition(h);
        string name = md.GetString(t.Name);
        TypeDefinitionHandle outer = t.GetDeclaringType();
        if (!outer.IsNil)
        {
            return FullName(md, outer) + "+" + name;
        }
        string ns = md.GetString(t.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>Decodes field signatures straight to (size, alignment).</summary>
    private sealed class SignatureProvider(ManagedLayoutReader owner, Module module, int depth) : ISignatureTypeProvider<FieldType, object?>
    {
        public FieldType GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
        {
            PrimitiveTypeCode.Boolean or PrimitiveTypeCode.Byte or PrimitiveTypeCode.SByte => FieldType.Of(1),
            PrimitiveTypeCode.Char or PrimitiveTypeCode.Int16 or PrimitiveTypeCode.UInt16 => FieldType.Of(2),
            PrimitiveTypeCode.Int32 or PrimitiveTypeCode.UInt32 or PrimitiveTypeCode.Single => FieldType.Of(4),
            PrimitiveTypeCode.Int64 or PrimitiveTypeCode.UInt64 or PrimitiveTypeCode.Double => FieldType.Of(8),
            PrimitiveTypeCode.IntPtr or PrimitiveTypeCode.UIntPtr => FieldType.Of(PointerSize),
            _ => throw new BadImageFormatException($"{module.Path}: field of type {typeCode} has no fixed unmanaged layout"),
        };

        public FieldType GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => owner.StructType(module, handle, depth);

        public FieldType GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => owner.ReferencedType(module, handle, depth);

        public FieldType GetPointerType(FieldType elementType) => FieldType.Of(PointerSize);

        public FieldType GetFunctionPointerType(MethodSignature<FieldType> signature) => FieldType.Of(PointerSize);

        public FieldType GetByReferenceType(FieldType elementType) => FieldType.Of(PointerSize);

        public FieldType GetSZArrayType(FieldType elementType) => throw NotUnmanaged("array");

        public FieldType GetArrayType(FieldType elementType, ArrayShape shape) => throw NotUnmanaged("array");

        public FieldType GetGenericInstantiation(FieldType genericType, ImmutableArray<FieldType> typeArguments) => throw NotUnmanaged("generic");

        public FieldType GetGenericMethodParameter(object? genericContext, int index) => throw NotUnmanaged("generic");

        public FieldType GetGenericTypeParameter(object? genericContext, int index) => throw NotUnmanaged("generic");

        public FieldType GetModifiedType(FieldType modifier, FieldType unmodifiedType, bool isRequired) => unmodifiedType;

        public FieldType GetPinnedType(FieldType elementType) => elementType;

        public FieldType GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) => throw NotUnmanaged("generic");

        private BadImageFormatException NotUnmanaged(string what) => new($"{module.Path}: a {what} field has no fixed unmanaged layout");
    }
}
