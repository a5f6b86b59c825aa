using Kscope.Formats.Btf;

namespace Kscope.Kernel.Bpf.Loader;

/// <summary>A CO-RE relocation (from .BTF.ext) attached to one instruction of a program spec, in the object's BTF.</summary>
public sealed record CoreRelocation(int InstructionIndex, int LocalTypeId, string AccessString, BtfCoreRelocationKind Kind);
