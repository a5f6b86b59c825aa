namespace Kscope.Formats.Btf;

/// <summary>A FUNC_PROTO parameter (struct btf_param). Type id 0 as the last parameter means "...".</summary>
public readonly record struct BtfParameter(string Name, int TypeId);
