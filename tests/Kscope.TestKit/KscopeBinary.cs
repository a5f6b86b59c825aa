namespace Kscope.TestKit;

/// <summary>
/// The kscope executable that process-based tests run: the one the environment variable <c>KSCOPE_BIN</c> names
/// (CI sets it to the published Native AOT binary, so what users get is what is tested), else the apphost the
/// build put next to the test assembly (tests/Kscope.Cli.Tests references src/Kscope.Cli).
/// </summary>
public static class KscopeBinary
{
    public const string Variable = "KSCOPE_BIN";

    /// <summary>The binary KSCOPE_BIN names (made absolute), or null when the variable is unset or empty.</summary>
    public static string? FromEnvironment
    {
        get
        {
            string? value = Environment.GetEnvironmentVariable(Variable);
            if (string.IsNullOrEmpty(value))
            {
                return null;
            }
            string path = System.IO.Path.GetFullPath(value);
            // a KSCOPE_BIN that names nothing is a broken test set-up, never a reason to test something else
            return File.Exists(path) ? path : throw new InvalidOperationException($"{Variable}={value}: no such file");
        }
    }

    /// <summary>KSCOPE_BIN when set, else this build's apphost next to the test assembly.</summary>
    public static string Path => FromEnvironment ?? System.IO.Path.Combine(AppContext.BaseDirectory, "kscope");
}
