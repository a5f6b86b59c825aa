using System.Globalization;
using Kscope.Diagnostics.Trace;
using Kscope.Diagnostics.Trace.Gadgets.Oom;
using Kscope.Diagnostics.Trace.Gadgets.Open;
using Kscope.Diagnostics.Trace.Gadgets.Signal;
using Kscope.Diagnostics.Trace.Gadgets.Tcp;

namespace Kscope.Diagnostics.Diagnose;

/// <summary>
/// The streaming eBPF gadgets of a capture (open errors, OOM kills, TCP errors, killing signals), each filtered in the kernel to what
/// went wrong, read by one reader every 10 ms: their records become timeline events. The kinds they add:
/// <list type="bullet">
/// <item><c>open_error</c> "EMFILE /path" (open, <c>failed_only</c>);</item>
/// <item><c>oom_kill</c> "victim PID COMM anon_rss_kb N" (oom; the event's pid is the task whose allocation
/// triggered the kill);</item>
/// <item><c>tcp_connect_error</c> "ECONNREFUSED 127.0.0.1:8080 latency_ns N", <c>tcp_reset</c> "10.0.0.2:443",
/// <c>tcp_retransmit</c> "10.0.0.2:443" (tcp, <c>errors_only</c>);</item>
/// <item><c>fatal_signal</c> "SIGSEGV code 1 comm server", <c>signal_sent</c> "SIGKILL to 4242 code 0 from kill"
/// (signal, <c>fatal_only</c>).</item>
/// </list>
/// </summary>
internal sealed class EventGadgets : IDisposable
{
    /// <summary>One gadget, its decoder (null: the record is not kept), the records it delivered.</summary>
    private sealed class Source(string name, IGadgetInstance instance, Func<ReadOnlyMemory<byte>, TimelineEvent?> decode)
    {
        public string Name { get; } = name;

        public IGadgetInstance Instance { get; } = instance;

        public long Records;

        public void Drain(Timeline timeline)
        {
            IReadOnlyList<ReadOnlyMemory<byte>> records = Instance.Drain();
            foreach (ReadOnlyMemory<byte> r in records)
            {
                if (decode(r) is { } e)
                {
                    timeline.Add(e);
                }
            }
            Records += records.Count;
        }
    }

    private readonly List<Source> _sources = [];
    private readonly Timeline _timeline;
    private readonly CancellationTokenSource _stop = new();
    private Task? _reader;

    public EventGadgets(Timeline timeline) => _timeline = timeline;

    public void Add(string name, IGadgetInstance? instance, Func<ReadOnlyMemory<byte>, TimelineEvent?> decode)
    {
        if (instance is not null)
        {
            _sources.Add(new Source(name, instance, decode));
        }
    }

    public bool Running(string name) => _sources.Any(s => s.Name == name);

    /// <summary>Records delivered by gadget <paramref name="name"/>; null when it did not run.</summary>
    public ulong? Records(string name) => _sources.FirstOrDefault(s => s.Name == name) is { } s ? (ulong)Interlocked.Read(ref s.Records) : null;

    /// <summary>Records the kernel could not deliver (a ring buffer was full), over every gadget.</summary>
    public ulong Lost => (ulong)_sources.Sum(s => (long)s.Instance.Lost);

    /// <summary>
    /// Starts the reader: every 10 ms. A process failing as fast as it can (opens past its limit, connects to a
    /// closed port) fills a 256 KiB ring in a few hundred ms, which a drain at the counters' 100 ms tick missed on a
    /// loaded machine (records were lost).
    /// </summary>
    public void Start()
    {
        if (_sources.Count == 0)
        {
            return;
        }
        _reader = Task.Run(() =>
        {
            while (!_stop.IsCancellationRequested)
            {
                DrainAll();
                _stop.Token.WaitHandle.WaitOne(10);
            }
        });
    }

    /// <summary>Stops the reader, detaches every gadget and reads what they committed before that.</summary>
    public void Stop()
    {
        StopReader();
        foreach (Source s in _sources)
        {
            s.Instance.Detach();
        }
        DrainAll();
    }

    private void DrainAll()
    {
        foreach (Source s in _sources)
        {
            s.Drain(_timeline);
        }
    }

    private void StopReader()
    {
        _stop.Cancel();
        _reader?.GetAwaiter().GetResult(); // a decoder's exception is a bug: thrown here with its stack trace
        _reader = null;
    }

    /// <summary>The reader is done before a gadget is disposed (on an early exit too).</summary>
    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _reader?.Wait();
        }
        catch (AggregateException)
        {
            // already thrown by Stop on the normal path; on an early exit the exception in flight is the one that matters
        }
        foreach (Source s in _sources)
        {
            s.Instance.Dispose();
        }
        _stop.Dispose();
    }

    private static TimelineEvent Event(EventHeader h, string kind, string payload) =>
        new(h.TimestampNs, (int)h.Pid, (int)h.Tid, (int)h.NamespacePid, 0, h.CgroupId, kind, payload);

    /// <summary>open: failed opens (the kernel sends only those; checked all the same) as "open_error".</summary>
    public static TimelineEvent? OpenError(ReadOnlyMemory<byte> r)
    {
        if (OpenRecord.ResultOf(r.Span) >= 0)
        {
            return null;
        }
        OpenRecord o = OpenRecord.Parse(r.Span);
        return Event(o.Header, "open_error", $"{Errors.Name((int)-o.Result)} {o.Path}");
    }

    /// <summary>oom: a kill, as "oom_kill" "victim PID COMM anon_rss_kb N" (the figures only where the kernel's tracepoint has them).</summary>
    public static TimelineEvent? OomKill(ReadOnlyMemory<byte> r)
    {
        OomRecord o = OomRecord.Parse(r.Span);
        string figures = o.HasFigures ? string.Create(CultureInfo.InvariantCulture, $" anon_rss_kb {o.AnonRssKb} total_vm_kb {o.TotalVmKb}") : "";
        return Event(o.Header, "oom_kill", string.Create(CultureInfo.InvariantCulture, $"victim {o.VictimPid} {o.VictimComm}{figures}"));
    }

    /// <summary>tcp (errors_only): failed connects, resets/aborts (ESTABLISHED → CLOSE), retransmits.</summary>
    public static TimelineEvent? TcpError(ReadOnlyMemory<byte> r)
    {
        TcpRecord t = TcpRecord.Parse(r.Span);
        string peer = Peer(t);
        return t.Kind switch
        {
            TcpEventKind.Connect when t.Result != 0 => Event(t.Header, "tcp_connect_error",
                string.Create(CultureInfo.InvariantCulture, $"{(t.Result < -1 ? Errors.Name(-t.Result) : "failed")} {peer} latency_ns {t.LatencyNs}")),
            TcpEventKind.Close when t.OldState == 1 => Event(t.Header, "tcp_reset", peer),
            TcpEventKind.Retransmit => Event(t.Header, "tcp_retransmit", peer),
            _ => null,
        };
    }

    /// <summary>
    /// signal (fatal_only): a delivery that killed a process, "fatal_signal" "SIGSEGV code 1 comm server" (the
    /// event's pid is the dying process); the sending of a killing signal to a target, "signal_sent" "SIGKILL to 4242
    /// code 0 from kill" (the event's pid is the sender).
    /// </summary>
    public static TimelineEvent? Signal(ReadOnlyMemory<byte> r)
    {
        SignalRecord s = SignalRecord.Parse(r.Span);
        string name = SignalRecord.SignalName(s.Signal);
        if (s.Delivered)
        {
            return s.Fatal ? Event(s.Header, "fatal_signal", string.Create(CultureInfo.InvariantCulture, $"{name} code {s.Code} comm {s.Header.Comm}")) : null;
        }
        return Event(s.Header, "signal_sent", string.Create(CultureInfo.InvariantCulture, $"{name} to {s.TargetPid} code {s.Code} from {s.Header.Comm}"));
    }

    private static string Peer(TcpRecord t) => t.Destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? string.Create(CultureInfo.InvariantCulture, $"[{t.Destination}]:{t.DestinationPort}")
        : string.Create(CultureInfo.InvariantCulture, $"{t.Destination}:{t.DestinationPort}");
}
