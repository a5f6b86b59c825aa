namespace Kscope.TestKit;

/// <summary>A fresh directory under the temp path, deleted with everything in it on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix) => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    /// <summary>
    /// A directory for this test process's life (built helpers shared by many tests): <c>TEMP/NAME-PID</c>, created now and
    /// deleted when the process exits.
    /// </summary>
    public static string ForProcess(string name)
    {
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{name}-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // A child process may still hold it; the temp path is cleaned by the system eventually.
            }
        };
        return dir;
    }

    /// <summary>The full path of <paramref name="name"/> inside this directory.</summary>
    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="text"/> to <paramref name="name"/> and returns its full path.</summary>
    public string Write(string name, string text)
    {
        string path = this[name];
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still hold it; the temp path is cleaned by the system eventually.
        }
    }
}
