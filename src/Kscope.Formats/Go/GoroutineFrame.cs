namespace Kscope.Formats.Go;

/// <summary>One frame of a goroutine's stack in a text dump: function, its printed arguments, file:line and pc offset.</summary>
public sealed record GoroutineFrame(string Function, string Arguments, string File, int Line, long PcOffset)
{
    public override string ToString() => $"{Function} {File}:{Line}";
}
