namespace Kscope.Diagnostics.Trace;

/// <summary>
/// The mappings of the processes whose user stacks a trace prints, as last seen alive, so that stacks
/// are symbolized at the end of the trace, after the processes have exited. Snapshots are taken when a
/// stack gadget asks for one (a process blocked in a new address space: bpf/gadgets/maps_requests.h),
/// and refreshed while the process lives (an exec replaces the snapshot; so does a dlopen once the
/// snapshot is older than the refresh age). Bounded: at most <see cref="Capacity"/> processes are kept;
/// past that, the snapshot of the process seen longest ago makes room and is counted in <see cref="Dropped"/>
/// (its stacks then show hex user frames).
/// </summary>
public sealed class ProcessMapsStore(Symbols.AddressResolver resolver, int capacity = ProcessMapsStore.DefaultCapacity)
{
    /// <summary>Processes kept by default: some 3 KiB each (only executable file mappings), about 12 MiB at most.</summary>
    public const int DefaultCapacity = 4096;

    private readonly Dictionary<uint, Entry> _byPid = [];

    /// <summary>The resolver the snapshots symbolize with (its binaries and frames are shared by every process).</summary>
    public Symbols.AddressResolver Resolver { get; } = resolver;

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), "at least one process");

    /// <summary>Processes whose snapshot is kept now.</summary>
    public int Count => _byPid.Count;

    /// <summary>Snapshots dropped to stay within <see cref="Capacity"/>.</summary>
    public ulong Dropped { get; private set; }

    /// <summary>The process's mappings now, whatever was kept (a request: its address space is new); false when it is gone already.</summary>
    public bool Take(uint pid)
    {
        Refresh(pid, maxAgeMs: 0, force: true, out bool read);
        return read;
    }

    /// <summary>
    /// The mappings of <paramref name="pid"/>: re-read when the process lives and the snapshot is older than
    /// <paramref name="maxAgeMs"/> or predates an exec; the last snapshot when it is gone; null when never seen.
    /// </summary>
    public Symbols.UserFrames? Get(uint pid, long maxAgeMs) => Refresh(pid, maxAgeMs, force: false, out _);

    private Symbols.UserFrames? Refresh(uint pid, long maxAgeMs, bool force, out bool read)
    {
        read = false;
        _byPid.TryGetValue(pid, out Entry? last);
        long now = Environment.TickCount64;
        string? exe = ExeOf(pid);
        if (exe is null)
        {
            return last?.Frames; // gone (or a kernel thread): what was seen alive
        }
        if (last is not null)
        {
            last.SeenMs = now;
            if (!force && last.Exe == exe && now - last.TakenMs < maxAgeMs)
            {
                return last.Frames;
            }
        }
        if (Symbols.UserFrames.Of((int)pid, Resolver) is not Symbols.UserFrames frames)
        {
            return last?.Frames; // exited between the two reads
        }
        read = true;
        if (last is null)
        {
            MakeRoom();
            _byPid[pid] = new Entry(frames, exe, now, now);
        }
        else
        {
            (last.Frames, last.Exe, last.TakenMs) = (frames, exe, now);
        }
        return frames;
    }

    /// <summary>At capacity: drops the snapshot of the process seen alive longest ago (one scan, no syscall).</summary>
    private void MakeRoom()
    {
        if (_byPid.Count < Capacity)
        {
            return;
        }
        uint oldest = 0;
        long seen = long.MaxValue;
        foreach ((uint pid, Entry e) in _byPid)
        {
            if (e.SeenMs < seen)
            {
                (oldest, seen) = (pid, e.SeenMs);
            }
        }
        _byPid.Remove(oldest);
        Dropped++;
    }

    private static string? ExeOf(uint pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/exe").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private sealed class Entry(Symbols.UserFrames frames, string exe, long takenMs, long seenMs)
    {
        public Symbols.UserFrames Frames { get; set; } = frames;

        public string Exe { get; set; } = exe;

        public long TakenMs { get; set; } = takenMs;

        public long SeenMs { get; set; } = seenMs;
    }
}
