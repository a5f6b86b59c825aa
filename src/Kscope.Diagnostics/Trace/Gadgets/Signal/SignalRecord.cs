using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Gadgets.Signal;

/// <summary>
/// A decoded <see cref="SignalEvent"/>. A delivery marked <c>Fatal</c> kills the process (no handler): the
/// kernel delivers it as SIGKILL, reported as the signal that was sent.
/// </summary>
public sealed record SignalRecord(EventHeader Header, bool Delivered, int Signal, int Code, int Result, uint TargetPid, bool Group,
    ulong Handler, string TargetComm, bool Fatal = false) : ITraceRecord
{
    public const int Size = 112;

    private static readonly string[] s_results = ["delivered", "ignored", "already_pending", "overflow_fail", "lose_info"];

    public ulong TimestampNs => Header.TimestampNs;

    public static unsafe SignalRecord Parse(ReadOnlySpan<byte> data)
    {
        SignalEvent e = Mirror.Read<SignalEvent>(data, "signal record");
        if (e.Kind is not (1 or 2))
        {
            throw new MalformedDataException("signal record", 48, $"unknown event kind {e.Kind}");
        }
        return new SignalRecord(EventHeader.From(e.H), e.Kind == 2, e.Sig, e.Code, e.Result, e.TargetPid, e.Group != 0, e.SaHandler,
            Mirror.CString(e.TargetComm, 16), e.Fatal != 0);
    }

    public static string SignalName(int sig) => sig switch
    {
        1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 4 => "SIGILL", 5 => "SIGTRAP", 6 => "SIGABRT", 7 => "SIGBUS", 8 => "SIGFPE",
        9 => "SIGKILL", 10 => "SIGUSR1", 11 => "SIGSEGV", 12 => "SIGUSR2", 13 => "SIGPIPE", 14 => "SIGALRM", 15 => "SIGTERM",
        16 => "SIGSTKFLT", 17 => "SIGCHLD", 18 => "SIGCONT", 19 => "SIGSTOP", 20 => "SIGTSTP", 21 => "SIGTTIN", 22 => "SIGTTOU",
        23 => "SIGURG", 24 => "SIGXCPU", 25 => "SIGXFSZ", 26 => "SIGVTALRM", 27 => "SIGPROF", 28 => "SIGWINCH", 29 => "SIGIO",
        30 => "SIGPWR", 31 => "SIGSYS", >= 32 and <= 64 => $"SIGRT{sig - 32}", _ => sig.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public IReadOnlyList<TraceField> Fields()
    {
        var f = new List<TraceField>();
        Header.AddTo(f);
        f.Add(new("event", Delivered ? "deliver" : "generate"));
        f.Add(new("signal", SignalName(Signal)));
        f.Add(new("target_tid", (long)TargetPid));
        f.Add(new("target_comm", TargetComm));
        f.Add(new("code", (long)Code));
        f.Add(new("result", Delivered ? (Fatal ? "fatal" : null) : Result >= 0 && Result < s_results.Length ? s_results[Result] : Result.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        f.Add(new("handler", Delivered ? Handler switch { 0 => "default", 1 => "ignore", _ => $"0x{Handler:x}" } : null));
        f.Add(new("fatal", Delivered ? Fatal : null));
        return f;
    }
}
