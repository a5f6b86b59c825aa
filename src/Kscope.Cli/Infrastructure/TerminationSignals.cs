using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Kscope.Cli.Infrastructure;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM, turned into cancellation. The first one cancels <see cref="Token"/>: the command
/// stops its work, detaches and releases its kernel objects, writes what it promised (trace summary and
/// histograms, the profile file, bpf run's maps) and kscope exits 130 after SIGINT, 143 after SIGTERM
/// (<see cref="ExitCode"/>). A second signal, of either kind, gets the signal's default action: kscope quits at
/// once (the kernel still releases every fd-owned BPF program, link and perf event with the process).
/// </summary>
/// <remarks>
/// A signal that was ignored when kscope started (a shell's background job, <c>nohup</c>) stays ignored:
/// the runtime keeps an inherited SIG_IGN, as a C program that only installs handlers when the disposition is not
/// SIG_IGN would.
/// </remarks>
public sealed class TerminationSignals : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private int _first; // 0, or the number of the first signal

    private TerminationSignals()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Handles SIGINT and SIGTERM until disposed; "stopping…" is said on stderr (stdout may be JSON).</summary>
    public static TerminationSignals Register() => new();

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>The exit code of an interrupted run: 128 + the first signal's number (130 for SIGINT, 143 for SIGTERM).</summary>
    public int ExitCode() => _first == 0 ? ExitCodes.Interrupted : 128 + _first;

    private void OnSignal(PosixSignalContext context)
    {
        int number = context.Signal == PosixSignal.SIGTERM ? 15 : 2;
        if (Interlocked.CompareExchange(ref _first, number, 0) != 0)
        {
            context.Cancel = false; // the second one: default action, the process ends now
            return;
        }
        context.Cancel = true;
        // Said first, so it comes before the summary; written past the Console lock (see Notice), it blocks only when
        // stderr itself is full, and then the second signal is the way out.
        Notice($"kscope: {(number == 2 ? "interrupted" : "terminated")}: stopping and writing results ({(number == 2 ? "Ctrl-C" : "the signal")} again quits at once)\n");
        // Cancellation callbacks would run on this thread: queue them.
        ThreadPool.UnsafeQueueUserWorkItem(static c => c.Cancel(), _cancel, preferLocal: false);
    }

    /// <summary>
    /// Writes to fd 2 with write(2) itself: every Console write (stdout's and stderr's) takes one lock, and a writer
    /// blocked on a full stdout pipe holds it — the notice would wait behind the very stall the user is escaping.
    /// </summary>
    private static void Notice(string text)
    {
        try
        {
            using var stderr = new FileStream(new SafeFileHandle(2, ownsHandle: false), FileAccess.Write, bufferSize: 0);
            stderr.Write(System.Text.Encoding.UTF8.GetBytes(text));
        }
        catch (IOException)
        {
            // stderr closed or gone: stop anyway
        }
        catch (Exception e) when (e is UnauthorizedAccessException or ArgumentException)
        {
            // fd 2 closed
        }
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _cancel.Dispose();
    }
}
