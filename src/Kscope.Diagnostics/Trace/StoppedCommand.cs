using System.Diagnostics;
using Kscope.Kernel.Host;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// A command started stopped (<c>kscope trace GADGET -- COMMAND</c>): a shell stops itself with SIGSTOP
/// before it execs the command, kscope waits for state T in /proc/PID/stat, attaches and filters on
/// the pid (exec keeps it), then <see cref="Resume"/> sends SIGCONT, so nothing from the command's
/// first instruction on is missed.
/// </summary>
public sealed class StoppedCommand : IDisposable
{
    private readonly Process _process;

    private StoppedCommand(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <param name="verb">the kscope verb, for messages and the shell's $0 (trace, profile).</param>
    public static StoppedCommand Start(IReadOnlyList<string> command, TimeSpan? timeout = null, string verb = "trace")
    {
        if (command.Count == 0)
        {
            throw new TraceTargetException($"{verb}: '--' must be followed by a command");
        }
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("kill -STOP $$; exec \"$@\"");
        start.ArgumentList.Add($"kscope-{verb}");
        foreach (string arg in command)
        {
            start.ArgumentList.Add(arg);
        }
        Process process = Process.Start(start) ?? throw new TraceTargetException($"{verb}: could not start '{command[0]}'");
        var stopped = new StoppedCommand(process);
        try
        {
            stopped.WaitStopped(timeout ?? TimeSpan.FromSeconds(10), verb);
        }
        catch
        {
            stopped.Dispose();
            throw;
        }
        return stopped;
    }

    private void WaitStopped(TimeSpan timeout, string verb)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new TraceTargetException($"{verb}: the command exited (status {_process.ExitCode}) before it could be {(verb == "trace" ? "traced" : "profiled")}");
            }
            string? stat = Procfs.TryReadText($"/proc/{Pid}/stat");
            if (stat is not null && Kscope.Formats.Procfs.ProcStat.Parse(stat, $"/proc/{Pid}/stat").State == 'T')
            {
                return;
            }
            Thread.Sleep(1);
        }
        throw new TraceTargetException($"{verb}: the command did not stop within {timeout.TotalSeconds:0}s");
    }

    /// <summary>Lets the command run (SIGCONT).</summary>
    public void Resume() => Signals.Send(Pid, Signals.SigCont);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>Kills the command if it still runs (Ctrl-C before it ended), then releases the process handle.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(2000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
