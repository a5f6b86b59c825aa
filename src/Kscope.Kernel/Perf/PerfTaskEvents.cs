using System.Globalization;
using Kscope.Native;
using Kscope.Native.Perf;

namespace Kscope.Kernel.Perf;

/// <summary>
/// Sampling events on every thread of a process that is already running, opened the way <c>perf record -p</c>
/// opens them: one event per (thread, CPU) from /proc/PID/task, each with <c>inherit</c> (threads and children that
/// a sampled thread creates later get inherited events, which write where their parent's do), all redirected with
/// PERF_EVENT_IOC_SET_OUTPUT into one ring per CPU.
/// </summary>
/// <remarks>
/// <para>The rings belong to one dummy event per CPU (PERF_COUNT_SW_DUMMY, on the calling thread: it counts and
/// records nothing), not to a sampled thread's event: a ring's owner must stay open while the ring is mapped, and a
/// sampled thread can exit at any time. So a thread's own events are closed as soon as they hang up (the thread and
/// every task that inherited from it have exited), keeping the fd count at live threads × CPUs.</para>
/// <para>A thread created while the events are being opened, by a thread whose events are not open yet, would
/// inherit nothing: <see cref="Rescan"/> lists /proc/PID/task and opens events on every thread that has
/// none, until a scan finds none (each found thread is then covered, and so is everything it creates). A thread
/// found by a rescan may have inherited events already (its creator was covered when it forked it) — the caller
/// knows from the FORK record and says so through <c>covered</c>; when the FORK record comes too late for that, the
/// thread has two events per CPU: <see cref="IsRescanEvent"/> names the samples of the explicit one so the caller
/// drops them.</para>
/// </remarks>
public sealed class PerfTaskEvents : IDisposable
{
    private readonly PerfEventAttr _attr;
    private readonly int[] _cpus;
    private readonly PerfEvent[] _anchors;
    private readonly Dictionary<int, PerfEvent[]> _threads = [];
    private readonly Dictionary<ulong, int> _rescanIds = [];
    private readonly HashSet<int> _opened = [];
    private int _open;

    private PerfTaskEvents(int pid, PerfEventAttr attr, int[] cpus, PerfEvent[] anchors)
    {
        Pid = pid;
        _attr = attr;
        _cpus = cpus;
        _anchors = anchors;
    }

    /// <summary>The sampled process.</summary>
    public int Pid { get; }

    /// <summary>The ring owners, one per CPU, in the order of the CPUs given: read their <see cref="PerfEvent.Ring"/>.</summary>
    public IReadOnlyList<PerfEvent> Rings => _anchors;

    /// <summary>Threads given events of their own so far (not counting those that inherited them).</summary>
    public int ThreadsOpened => _opened.Count;

    /// <summary>Sampling events still open (live threads × CPUs): 0 once every sampled task has exited.</summary>
    public int OpenEvents => _open;

    /// <summary>Rescans that found threads without events (0: the first listing was complete).</summary>
    public int Rescans { get; private set; }

    /// <summary>
    /// Maps one ring per CPU of <paramref name="cpus"/> (<paramref name="ringPages"/> data pages, woken as
    /// <paramref name="attr"/>'s watermark says) and opens <paramref name="attr"/> (which should set inherit) on every
    /// thread of <paramref name="pid"/> listed now; then call <see cref="Rescan"/> until it returns 0. Throws
    /// <see cref="KernelException"/> ESRCH when the process does not exist.
    /// </summary>
    public static PerfTaskEvents Open(int pid, PerfEventAttr attr, IReadOnlyList<int> cpus, int ringPages, Action<PerfEvent>? opened = null)
    {
        var anchors = new PerfEvent[cpus.Count];
        PerfTaskEvents? events = null;
        try
        {
            for (int i = 0; i < cpus.Count; i++)
            {
                // The ring owner: same clock and direction as the sampling events (SET_OUTPUT demands it), on this thread.
                var anchor = new PerfEventAttr
                {
                    Type = PerfEvents.TypeSoftware,
                    Config = PerfEvents.SoftwareDummy,
                    SampleType = attr.SampleType,
                    Flags = attr.Flags & (PerfEventAttrFlags.UseClockid | PerfEventAttrFlags.Watermark | PerfEventAttrFlags.SampleIdAll),
                    Clockid = attr.Clockid,
                    WakeupWatermark = attr.WakeupWatermark,
                };
                anchors[i] = PerfEvent.Open(anchor, 0, cpus[i], -1, 0, $"perf_event_open dummy ring owner on cpu {cpus[i]}");
                anchors[i].MapRing(ringPages);
            }
            events = new PerfTaskEvents(pid, attr, [.. cpus], anchors);
            if (events.OpenNewThreads(opened, null, rescan: false) == 0)
            {
                throw KernelException.FromErrno($"perf_event_open pid {pid}", Errno.ESRCH, "no such process (or it exited)");
            }
            return events;
        }
        catch
        {
            if (events is not null)
            {
                events.Dispose();
            }
            else
            {
                foreach (PerfEvent? a in anchors)
                {
                    a?.Dispose();
                }
            }
            throw;
        }
    }

    /// <summary>
    /// Lists /proc/PID/task again and opens events on the threads that have none and that <paramref name="covered"/>
    /// does not claim (a FORK record showed they inherited events: drain the rings first); returns how many threads got
    /// events. <paramref name="opened"/> sees each new event (to watch it for hang-up).
    /// </summary>
    public int Rescan(Action<PerfEvent>? opened, Func<int, bool>? covered)
    {
        int count = OpenNewThreads(opened, covered, rescan: true);
        if (count > 0)
        {
            Rescans++;
        }
        return count;
    }

    private int OpenNewThreads(Action<PerfEvent>? opened, Func<int, bool>? covered, bool rescan)
    {
        int count = 0;
        foreach (int tid in Threads(Pid))
        {
            if (_opened.Contains(tid) || (covered?.Invoke(tid) ?? false))
            {
                continue;
            }
            var events = new List<PerfEvent>(_cpus.Length);
            try
            {
                for (int i = 0; i < _cpus.Length; i++)
                {
                    PerfEvent e = PerfEvent.Open(_attr, tid, _cpus[i], -1, 0, $"perf_event_open cpu-clock for thread {tid} of pid {Pid} on cpu {_cpus[i]}");
                    events.Add(e);
                    PerfEvents.SetOutput(e.Fd, _anchors[i].Fd);
                    if (rescan)
                    {
                        _rescanIds[PerfEvents.Id(e.Fd)] = tid;
                    }
                }
            }
            catch (KernelException k) when (k.Errno == Errno.ESRCH)
            {
                // The thread exited between the listing and the open: nothing to sample.
                foreach (PerfEvent e in events)
                {
                    e.Dispose();
                }
                _opened.Add(tid);
                continue;
            }
            catch (KernelException k) when (k.Errno is Errno.EMFILE or Errno.ENFILE)
            {
                foreach (PerfEvent e in events)
                {
                    e.Dispose();
                }
                throw KernelException.FromErrno(k.Operation, k.Errno,
                    $"sampling every thread takes one fd per thread and CPU ({Threads(Pid).Count} threads x {_cpus.Length} CPUs); raise the open-file limit (ulimit -n)");
            }
            catch
            {
                foreach (PerfEvent e in events)
                {
                    e.Dispose();
                }
                throw;
            }
            _opened.Add(tid);
            _threads[tid] = [.. events];
            _open += events.Count;
            count++;
            foreach (PerfEvent e in events)
            {
                opened?.Invoke(e);
            }
        }
        return count;
    }

    /// <summary>
    /// True when <paramref name="id"/> is an event a rescan opened on <paramref name="tid"/> itself: if that thread also
    /// inherited events (its FORK record was seen), its samples come twice and the caller drops this event's.
    /// </summary>
    public bool IsRescanEvent(ulong id, int tid) => _rescanIds.TryGetValue(id, out int t) && t == tid;

    /// <summary>Closes a sampling event that hung up (its thread and all that inherited from it exited).</summary>
    public void Close(PerfEvent e)
    {
        foreach ((int tid, PerfEvent[] events) in _threads)
        {
            int i = Array.IndexOf(events, e);
            if (i >= 0)
            {
                e.Dispose();
                events[i] = null!;
                _open--;
                if (events.All(x => x is null))
                {
                    _threads.Remove(tid);
                }
                return;
            }
        }
    }

    /// <summary>Every open sampling event (to enable, disable or watch).</summary>
    public IEnumerable<PerfEvent> Events => _threads.Values.SelectMany(e => e).Where(e => e is not null);

    public void Dispose()
    {
        foreach (PerfEvent[] events in _threads.Values)
        {
            foreach (PerfEvent? e in events)
            {
                e?.Dispose();
            }
        }
        _threads.Clear();
        _open = 0;
        foreach (PerfEvent a in _anchors)
        {
            a?.Dispose();
        }
    }

    /// <summary>The thread ids in /proc/PID/task now (empty when the process is gone).</summary>
    public static IReadOnlyList<int> Threads(int pid)
    {
        var tids = new List<int>();
        try
        {
            foreach (string dir in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
                {
                    tids.Add(tid);
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
        }
        return tids;
    }
}
