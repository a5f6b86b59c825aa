namespace Kscope.Kernel.Host;

/// <summary>A value and where it was read (file path, syscall): the evidence doctor shows.</summary>
public sealed record Sourced<T>(T Value, string Source);
