using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Kscope.Native;

namespace Kscope.Cli.Tests.Cli;

/// <summary>
/// The built kscope as a real child process, for what only a process shows: signals, exit codes, the shipped
/// runtime configuration (no resource strings). <see cref="KscopeBinary.Path"/>: KSCOPE_BIN (the published Native AOT
/// binary in CI's second pass), else this build's apphost next to the test assembly.
/// </summary>
/// <remarks>
/// The child starts through <c>env --default-signal=INT,TERM</c>: a test host started from a shell's background job
/// inherits SIGINT ignored, and kscope (rightly) keeps an inherited SIG_IGN, so kill -INT would do nothing.
/// </remarks>
internal sealed class KscopeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();
    private readonly Task _readers;

    private KscopeProcess(Process process, bool readStdout)
    {
        _process = process;
        Task stdout = readStdout ? Pump(process.StandardOutput, _out) : Task.CompletedTask;
        Task stderr = Pump(process.StandardError, _err);
        _readers = Task.WhenAll(stdout, stderr);
    }

    /// <summary>The binary and the arguments before kscope's own (none: KscopeBinary.Path is an executable).</summary>
    public static (string File, string[] Prefix) Command()
    {
        string path = KscopeBinary.Path;
        Assert.True(File.Exists(path), $"{path} not built");
        return (path, []);
    }

    /// <summary>Starts kscope with <paramref name="args"/>; <paramref name="readStdout"/> false leaves its stdout pipe unread (it fills up and blocks).</summary>
    public static KscopeProcess Start(string[] args, bool readStdout = true, string? workingDirectory = null)
    {
        (string file, string[] prefix) = Command();
        var psi = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add("--default-signal=INT,TERM");
        psi.ArgumentList.Add(file);
        foreach (string a in prefix.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }
        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
        }
        psi.Environment["NO_COLOR"] = "1";
        return new KscopeProcess(Process.Start(psi)!, readStdout);
    }

    /// <summary>Runs to completion (within <paramref name="deadline"/>, default 2 min); returns exit code, stdout, stderr.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args) => RunWithin(TimeSpan.FromMinutes(2), args);

    public static (int Code, string Out, string Err) RunWithin(TimeSpan deadline, params string[] args)
    {
        using KscopeProcess p = Start(args);
        int code = p.WaitForExit(deadline);
        return (code, p.Out, p.Err);
    }

    /// <summary>kscope's pid (env execs it).</summary>
    public int Pid => _process.Id;

    public string Out
    {
        get
        {
            lock (_out)
            {
                return _out.ToString();
            }
        }
    }

    public string Err
    {
        get
        {
            lock (_err)
            {
                return _err.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Shrinks kscope's stdout pipe to one page (fcntl F_SETPIPE_SZ on the read end we hold), so an unread stdout
    /// fills after a few dozen lines rather than 64 KiB: on an emulated one-vCPU guest that is seconds, not minutes.
    /// </summary>
    public void ShrinkStdoutPipe()
    {
        var pipe = (System.IO.Pipes.PipeStream)_process.StandardOutput.BaseStream;
        const int FSetPipeSize = 1031; // F_SETPIPE_SZ, include/uapi/linux/fcntl.h
        int fd = (int)pipe.SafePipeHandle.DangerousGetHandle();
        Assert.True(Fcntl(fd, FSetPipeSize, Environment.SystemPageSize) >= 0, $"F_SETPIPE_SZ on kscope's stdout: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Bytes written by kscope to its stdout and not read yet (FIONREAD on the read end).</summary>
    public int StdoutPending()
    {
        var pipe = (System.IO.Pipes.PipeStream)_process.StandardOutput.BaseStream;
        const uint FionRead = 0x541B;
        int pending = 0;
        return Ioctl((int)pipe.SafePipeHandle.DangerousGetHandle(), FionRead, ref pending) == 0 ? pending : -1;
    }

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int Fcntl(int fd, int command, int argument);

    [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static extern int Ioctl(int fd, nuint request, ref int argument);

    public void Signal(int signal) => Signals.Send(Pid, signal);

    /// <summary>Polls until stdout or stderr contains <paramref name="text"/>; fails with both when the deadline passes or kscope exits first.</summary>
    public void WaitFor(string text, TimeSpan deadline, bool stderr = false)
    {
        var clock = Stopwatch.StartNew();
        while (!(stderr ? Err : Out).Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                _readers.Wait(TimeSpan.FromSeconds(10));
                if ((stderr ? Err : Out).Contains(text, StringComparison.Ordinal))
                {
                    return;
                }
                Assert.Fail($"kscope exited ({_process.ExitCode}) before printing '{text}'\nstdout:\n{Tail(Out)}\nstderr:\n{Tail(Err)}");
            }
            Assert.True(clock.Elapsed < deadline, $"no '{text}' after {deadline.TotalSeconds:0}s\nstdout:\n{Tail(Out)}\nstderr:\n{Tail(Err)}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Waits for exit (failing with the output after <paramref name="deadline"/>) and for the output to be read.</summary>
    public int WaitForExit(TimeSpan deadline)
    {
        if (!_process.WaitForExit(deadline))
        {
            Assert.Fail($"kscope still running after {deadline.TotalSeconds:0}s\nstdout:\n{Tail(Out)}\nstderr:\n{Tail(Err)}");
        }
        _process.WaitForExit();
        _readers.Wait(TimeSpan.FromSeconds(30));
        return _process.ExitCode;
    }

    /// <summary>The BPF program and link ids kscope holds now, from /proc/PID/fdinfo (prog_id:/link_id: lines), and its perf event fds.</summary>
    public (HashSet<uint> Programs, HashSet<uint> Links, int PerfEvents) KernelObjects()
    {
        var programs = new HashSet<uint>();
        var links = new HashSet<uint>();
        int perf = 0;
        try
        {
            foreach (string fd in Directory.EnumerateFiles($"/proc/{Pid}/fd"))
            {
                string? target = new FileInfo(fd).LinkTarget;
                if (target == "anon_inode:[perf_event]")
                {
                    perf++;
                }
                if (target is not ("anon_inode:bpf-prog" or "anon_inode:bpf_link"))
                {
                    continue;
                }
                string info;
                try
                {
                    info = File.ReadAllText($"/proc/{Pid}/fdinfo/{Path.GetFileName(fd)}");
                }
                catch (IOException)
                {
                    continue; // closed meanwhile
                }
                foreach (string line in info.Split('\n'))
                {
                    if (line.StartsWith("prog_id:", StringComparison.Ordinal) && target == "anon_inode:bpf-prog")
                    {
                        programs.Add(uint.Parse(line[8..].Trim(), System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else if (line.StartsWith("link_id:", StringComparison.Ordinal))
                    {
                        links.Add(uint.Parse(line[8..].Trim(), System.Globalization.CultureInfo.InvariantCulture));
                    }
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
        }
        return (programs, links, perf);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private static async Task Pump(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[8192];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into)
            {
                into.Append(buffer, 0, n);
            }
        }
    }

    internal static string Tail(string text, int chars = 3000) => text.Length <= chars ? text : "…" + text[^chars..];
}
