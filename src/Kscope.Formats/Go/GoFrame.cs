namespace Kscope.Formats.Go;

/// <summary>A source frame for a Go pc: function, file, line; <see cref="Inlined"/> when the compiler inlined it into its caller.</summary>
public readonly record struct GoFrame(string Function, string File, int Line, bool Inlined)
{
    public override string ToString() => $"{Function} {File}:{Line}{(Inlined ? " (inlined)" : "")}";
}
