namespace Kscope.Cli.Infrastructure;

/// <summary>The seam between commands and the terminal, so commands are tested by exit code and output.</summary>
public interface IConsole
{
    TextWriter Out { get; }

    TextWriter Error { get; }

    /// <summary>Standard output is a terminal (progress may be rewritten in place, columns aligned to its width).</summary>
    bool IsTerminal { get; }

    /// <summary>Colour allowed: a terminal and NO_COLOR unset.</summary>
    bool Color { get; }

    /// <summary>Terminal width in columns (80 when unknown).</summary>
    int Width { get; }
}

/// <summary>The real console.</summary>
public sealed class SystemConsole : IConsole
{
    public TextWriter Out { get; } = Console.Out;

    public TextWriter Error { get; } = Console.Error;

    public bool IsTerminal { get; } = !Console.IsOutputRedirected;

    public bool Color => IsTerminal && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    public int Width
    {
        get
        {
            try
            {
                return IsTerminal && Console.WindowWidth > 0 ? Console.WindowWidth : 80;
            }
            catch (IOException)
            {
                return 80;
            }
        }
    }
}

/// <summary>A console writing to strings, for tests.</summary>
public sealed class StringConsole : IConsole
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _error = new();

    public TextWriter Out => _out;

    public TextWriter Error => _error;

    public bool IsTerminal { get; init; }

    public bool Color { get; init; }

    public int Width { get; init; } = 120;

    public string OutText => _out.ToString();

    public string ErrorText => _error.ToString();
}
