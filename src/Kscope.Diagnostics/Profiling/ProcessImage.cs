namespace Kscope.Diagnostics.Profiling;

/// <summary>
/// One address space of a process while it was sampled: its executable mappings (from /proc/PID/maps
/// when first seen, then from MMAP2 records) and its name. A process gets a new image when it execs
/// (COMM record with the exec flag) and a child a copy of its parent's when it forks, so samples are
/// symbolized against the mappings they were taken in, also after the process has exited.
/// </summary>
public sealed class ProcessImage(int pid, string? comm)
{
    private readonly List<ProcessMaps.Region> _regions = [];

    public int Pid { get; } = pid;

    public string? Comm { get; set; } = comm;

    public IReadOnlyList<ProcessMaps.Region> Regions => _regions;

    /// <summary>An image from /proc/PID/maps and /proc/PID/comm (empty when the process is gone).</summary>
    public static ProcessImage FromProc(int pid)
    {
        string? comm = null;
        try
        {
            comm = File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        var image = new ProcessImage(pid, comm);
        if (ProcessMaps.Read(pid) is { } maps)
        {
            foreach (ProcessMaps.Region r in maps.Regions)
            {
                image.Add(r);
            }
        }
        return image;
    }

    /// <summary>A forked child's image: the parent's mappings under the child's pid.</summary>
    public ProcessImage CopyFor(int childPid)
    {
        var child = new ProcessImage(childPid, Comm);
        child._regions.AddRange(_regions);
        return child;
    }

    /// <summary>Adds a mapping; it replaces whatever it overlaps (mmap over an old range unmaps it).</summary>
    public void Add(ProcessMaps.Region region)
    {
        if (region.End <= region.Start)
        {
            return;
        }
        _regions.RemoveAll(r => r.Start < region.End && region.Start < r.End);
        int i = _regions.BinarySearch(region, StartComparer.Instance);
        _regions.Insert(i < 0 ? ~i : i, region);
    }

    public ProcessMaps.Region? Find(ulong address)
    {
        int lo = 0, hi = _regions.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            ProcessMaps.Region r = _regions[mid];
            if (address < r.Start)
            {
                hi = mid - 1;
            }
            else if (address >= r.End)
            {
                lo = mid + 1;
            }
            else
            {
                return r;
            }
        }
        return null;
    }

    private sealed class StartComparer : IComparer<ProcessMaps.Region>
    {
        public static readonly StartComparer Instance = new();

        public int Compare(ProcessMaps.Region? x, ProcessMaps.Region? y) => x!.Start.CompareTo(y!.Start);
    }
}
