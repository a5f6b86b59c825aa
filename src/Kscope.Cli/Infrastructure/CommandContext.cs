namespace Kscope.Cli.Infrastructure;

/// <summary>
/// The command line being run, as "kscope pprof top", for messages that point at its --help. Flows with the
/// invocation (an AsyncLocal), so tests running commands in parallel in one process each see their own.
/// </summary>
public static class CommandContext
{
    private static readonly AsyncLocal<string?> s_path = new();

    /// <summary>"kscope trace", or null outside <see cref="Program.Run"/>.</summary>
    public static string? Path => s_path.Value;

    public static Scope Enter(string path)
    {
        string? previous = s_path.Value;
        s_path.Value = path;
        return new Scope(previous);
    }

    public readonly struct Scope(string? previous) : IDisposable
    {
        public void Dispose() => s_path.Value = previous;
    }
}
