namespace Kscope.Diagnostics.Diagnose;

/// <summary>
/// What one capture saw, on one clock (CLOCK_MONOTONIC ns): point events, intervals, and counter series. Bounded:
/// past <see cref="TimelineLimits"/> new items are dropped and counted (<see cref="DroppedEvents"/> …), never kept
/// silently and never grown without bound. Thread-safe for adding from several sources at once.
/// </summary>
/// <remarks>
/// Memory bound: an event or interval is a small record (about 100 bytes with its payload reference), a counter
/// point 16 bytes; with the default limits (100,000 events, 100,000 intervals, 512 series × 36,000 points) the
/// timeline holds at most about 20 MiB plus the payload strings, whatever the event rate.
/// </remarks>
public sealed class Timeline
{
    private readonly Lock _lock = new();
    private readonly List<TimelineEvent> _events = [];
    private readonly List<TimelineInterval> _intervals = [];
    private readonly Dictionary<(string Scope, string Name), CounterSeries> _series = [];
    private readonly List<CounterSeries> _seriesOrder = [];

    public Timeline(TimelineLimits? limits = null) => Limits = limits ?? new TimelineLimits();

    public TimelineLimits Limits { get; }

    /// <summary>Both clocks when the capture started; the window starts at its monotonic time.</summary>
    public ClockSnapshot Start { get; private set; }

    /// <summary>Both clocks when the capture ended; null while it runs.</summary>
    public ClockSnapshot? End { get; private set; }

    public ulong StartNs => Start.MonotonicNs;

    public ulong EndNs => End?.MonotonicNs ?? MonotonicClock.NowNs();

    public ulong DurationNs => EndNs - StartNs;

    public ulong DroppedEvents { get; private set; }

    public ulong DroppedIntervals { get; private set; }

    /// <summary>Counter points dropped because a series was full, plus points of series past <see cref="TimelineLimits.MaxSeries"/>.</summary>
    public ulong DroppedPoints { get; private set; }

    public ulong DroppedSeries { get; private set; }

    public void MarkStart(ClockSnapshot start) => Start = start;

    public void MarkEnd(ClockSnapshot end) => End = end;

    public IReadOnlyList<TimelineEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<TimelineInterval> Intervals
    {
        get
        {
            lock (_lock)
            {
                return [.. _intervals];
            }
        }
    }

    public IReadOnlyList<CounterSeries> Series
    {
        get
        {
            lock (_lock)
            {
                return [.. _seriesOrder];
            }
        }
    }

    public bool Add(TimelineEvent e)
    {
        lock (_lock)
        {
            if (_events.Count >= Limits.MaxEvents)
            {
                DroppedEvents++;
                return false;
            }
            _events.Add(e);
            return true;
        }
    }

    public bool Add(TimelineInterval i)
    {
        lock (_lock)
        {
            if (_intervals.Count >= Limits.MaxIntervals)
            {
                DroppedIntervals++;
                return false;
            }
            _intervals.Add(i);
            return true;
        }
    }

    /// <summary>Appends a point to the series (<paramref name="scope"/>, <paramref name="name"/>), creating it on first use.</summary>
    public bool AddPoint(string scope, string name, ulong timeNs, double value)
    {
        lock (_lock)
        {
            if (!_series.TryGetValue((scope, name), out CounterSeries? s))
            {
                if (_series.Count >= Limits.MaxSeries)
                {
                    DroppedSeries++;
                    DroppedPoints++;
                    return false;
                }
                s = new CounterSeries(scope, name, Limits.MaxPointsPerSeries);
                _series.Add((scope, name), s);
                _seriesOrder.Add(s);
            }
            if (!s.Add(timeNs, value))
            {
                DroppedPoints++;
                return false;
            }
            return true;
        }
    }

    /// <summary>The series, or null when nothing was recorded under that name.</summary>
    public CounterSeries? Find(string scope, string name)
    {
        lock (_lock)
        {
            return _series.GetValueOrDefault((scope, name));
        }
    }

    /// <summary>Every series named <paramref name="name"/>, whatever its scope.</summary>
    public IReadOnlyList<CounterSeries> Named(string name)
    {
        lock (_lock)
        {
            return _seriesOrder.Where(s => s.Name == name).ToList();
        }
    }
}

/// <summary>Caps of a <see cref="Timeline"/>.</summary>
public sealed record TimelineLimits
{
    public int MaxEvents { get; init; } = 100_000;

    public int MaxIntervals { get; init; } = 100_000;

    public int MaxSeries { get; init; } = 512;

    /// <summary>An hour of 100 ms polling.</summary>
    public int MaxPointsPerSeries { get; init; } = 36_000;
}

/// <summary>
/// A point event: when (CLOCK_MONOTONIC ns), who (pid and tid as the host sees them and in the target's pid
/// namespace; 0 when unknown), its cgroup id, a kind ("exec", "oom_kill" …), a short payload and a stack id (-1: none).
/// </summary>
public sealed record TimelineEvent(ulong TimeNs, int Pid, int Tid, int NsPid, int NsTid, ulong CgroupId, string Kind, string? Payload = null, int StackId = -1);

/// <summary>A span of time on one thread or process (a run-queue wait, a blocked period, a throttled stretch).</summary>
public sealed record TimelineInterval(ulong StartNs, ulong EndNs, int Pid, int Tid, string Kind, string? Payload = null, int StackId = -1);

/// <summary>
/// One counter polled over the window: cumulative kernel counters (nr_throttled, throttled_us, PSI totals) and gauges
/// (memory_current_bytes, threads) alike, by name; the unit is in the name (docs/json.md).
/// </summary>
public sealed class CounterSeries
{
    private readonly List<CounterPoint> _points = [];
    private readonly int _max;

    internal CounterSeries(string scope, string name, int max)
    {
        (Scope, Name, _max) = (scope, name, max);
    }

    /// <summary>What it is read from: "cgroup:/sys/fs/cgroup/…", "pid:1234", "host".</summary>
    public string Scope { get; }

    public string Name { get; }

    public ulong Dropped { get; private set; }

    public IReadOnlyList<CounterPoint> Points => _points;

    public CounterPoint? First => _points.Count > 0 ? _points[0] : null;

    public CounterPoint? Last => _points.Count > 0 ? _points[^1] : null;

    /// <summary>Last minus first: the change over the window of a cumulative counter; null with fewer than two points.</summary>
    public double? Delta => _points.Count >= 2 ? _points[^1].Value - _points[0].Value : null;

    public double Max => _points.Count == 0 ? 0 : _points.Max(p => p.Value);

    internal bool Add(ulong timeNs, double value)
    {
        if (_points.Count >= _max)
        {
            Dropped++;
            return false;
        }
        _points.Add(new CounterPoint(timeNs, value));
        return true;
    }
}

public readonly record struct CounterPoint(ulong TimeNs, double Value);
