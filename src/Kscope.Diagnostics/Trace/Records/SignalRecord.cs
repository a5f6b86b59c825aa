using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Records;

/// <summary>
/// struct signal_event (bpf/gadgets/signal.bpf.c), 112 bytes: header (sender, or receiver for a
/// delivery), kind u32 @48, sig s32 @52, errno s32 @56, code s32 @60, result s32 @64, target_pid u32 @68,
/// group u32 @72, sa_handler u64 @80, sa_flags u64 @88, target_comm[16] @96.
/// </summary>
public sealed record SignalRecord(EventHeader Header, bool Delivered, int Signal, int Code, int Result, uint TargetPid, bool Group,
    ulong Handler, string TargetComm) : ITraceRecord
{
    public const int Size = 112;

    private static readonly string[] s_results = ["delivered", "ignored", "already_pending", "overflow_fail", "lose_info"];

    public ulong TimestampNs => Header.TimestampNs;

    public static SignalRecord Parse(ReadOnlySpan<byte> data)
    {
        var reader = new SpanReader(data, "signal record");
        EventHeader header = EventHeader.Read(ref reader);
        uint kind = reader.U32();
        if (kind is not (1 or 2))
        {
            throw new MalformedDataException("signal record", 48, $"unknown event kind {kind}");
        }
        int sig = reader.I32();
        reader.Skip(4);
        int code = reader.I32();
        int result = reader.I32();
        uint target = reader.U32();
        bool group = reader.U32() != 0;
        reader.Skip(4);
        ulong handler = reader.U64();
        reader.Skip(8);
        return new SignalRecord(header, kind == 2, sig, code, result, target, group, handler, EventHeader.CString(reader.Take(16)));
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
        f.Add(new("result", Delivered ? null : Result >= 0 && Result < s_results.Length ? s_results[Result] : Result.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        f.Add(new("handler", Delivered ? Handler switch { 0 => "default", 1 => "ignore", _ => $"0x{Handler:x}" } : null));
        return f;
    }
}
