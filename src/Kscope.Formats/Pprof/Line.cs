namespace Kscope.Formats.Pprof;

/// <summary>
/// One source position of a location (message Line). A location with inlined calls has several:
/// the first is the innermost (the inlined callee), the last the function the code was inlined into.
/// <see cref="Function"/> is null when the profile left function_id 0.
/// </summary>
public readonly record struct Line(Function? Function, long Number, long Column = 0);
