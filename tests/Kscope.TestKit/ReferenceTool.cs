using System.Diagnostics;
using System.Globalization;

namespace Kscope.TestKit;

/// <summary>
/// A reference tool (libbpf-tools execsnoop, opensnoop, runqlat, offcputime, sigsnoop, tcpstates…) running
/// beside the code under test on the same activity. Its stdout is line-buffered (<c>stdbuf -oL</c>: to a
/// pipe, libc would hold every line, the header included, until exit) and collected as it comes; the
/// caller waits until it is attached (<see cref="WaitForLine"/> on the header it prints once attached, or
/// <see cref="WaitForBpfLinks"/> for a tool that prints nothing before its end), causes the activity, then
/// <see cref="Stop"/>s it with SIGINT so it prints its summary and exits. Dispose kills it if still running.
/// </summary>
public sealed class ReferenceTool : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<string> _stderr = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ReferenceTool(string name, Process process)
    {
        Name = name;
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _stdoutClosed.TrySetResult();
                return;
            }
            lock (_lines)
            {
                _lines.Add(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.Add(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The tool's name (execsnoop…).</summary>
    public string Name { get; }

    /// <summary>The tool's pid (stdbuf execs it, so this is the tool itself).</summary>
    public int Pid => _process.Id;

    /// <summary>What it printed on stdout so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>What it printed on stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="tool"/> (found on PATH or in /usr/sbin; skips, or fails under KSCOPE_STRICT=1,
    /// without it) with line-buffered stdout.
    /// </summary>
    public static ReferenceTool Start(string tool, string debianPackage, params string[] args)
    {
        Requires.Root();
        string path = Requires.Tool(tool, debianPackage);
        string stdbuf = Requires.Tool("stdbuf", "coreutils");
        var psi = new ProcessStartInfo(stdbuf) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-oL");
        psi.ArgumentList.Add(path);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return new ReferenceTool(tool, Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {path}"));
    }

    /// <summary>Polls until a line matches (e.g. the header the tool prints once attached); fails after the timeout (default 60 s).</summary>
    public string WaitForLine(Func<string, bool> match, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)))
        {
            if (Lines.FirstOrDefault(match) is { } line)
            {
                return line;
            }
            if (_process.HasExited)
            {
                break;
            }
            Thread.Sleep(20);
        }
        Assert.Fail($"{Name}: no such line after {clock.Elapsed.TotalSeconds:F0} s ({(_process.HasExited ? $"exited {_process.ExitCode}" : "running")}); stdout: {string.Join('\n', Lines)}; stderr: {Stderr}");
        return "";
    }

    /// <summary>
    /// Polls until the tool holds at least <paramref name="count"/> BPF links (<c>anon_inode:bpf_link</c> in
    /// /proc/PID/fd): attached, for a tool that prints nothing before it ends (offcputime).
    /// </summary>
    public void WaitForBpfLinks(int count = 1, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        int seen = 0;
        while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)) && !_process.HasExited)
        {
            seen = 0;
            try
            {
                foreach (string fd in Directory.GetFiles($"/proc/{Pid}/fd"))
                {
                    try
                    {
                        if (new FileInfo(fd).LinkTarget == "anon_inode:bpf_link")
                        {
                            seen++;
                        }
                    }
                    catch (IOException)
                    {
                    }
                }
            }
            catch (DirectoryNotFoundException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            if (seen >= count)
            {
                return;
            }
            Thread.Sleep(20);
        }
        Assert.Fail($"{Name}: {seen} of {count} BPF links after {clock.Elapsed.TotalSeconds:F0} s ({(_process.HasExited ? $"exited {_process.ExitCode}" : "running")}); stderr: {Stderr}");
    }

    /// <summary>Sends SIGINT (the tool prints what it has and exits), waits for it (at most 60 s) and returns every stdout line.</summary>
    public IReadOnlyList<string> Stop()
    {
        if (!_process.HasExited)
        {
            Tools.Run("kill", "-INT", _process.Id.ToString(CultureInfo.InvariantCulture));
        }
        Assert.True(_process.WaitForExit(60_000), $"{Name} did not exit within 60 s of SIGINT; stderr: {Stderr}");
        _process.WaitForExit(); // the asynchronous readers are drained
        _stdoutClosed.Task.Wait(TimeSpan.FromSeconds(10));
        return Lines;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
