using Kscope.Formats;
using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;

namespace Kscope.Diagnostics.Symbols;

/// <summary>
/// One address space of a process: its executable file mappings (from /proc/PID/maps when first
/// seen, then, in the profiler, from MMAP2 records) and its name. The profiler gives a process a new
/// image when it execs (COMM record with the exec flag) and a child a copy of its parent's when it
/// forks, so samples are symbolized against the mappings they were taken in, also after the process
/// has exited. <see cref="AddressResolver"/> resolves addresses against an image.
/// </summary>
public sealed class ProcessImage(int pid, string? comm)
{
    private readonly List<ProcMapsEntry> _regions = [];

    public int Pid { get; } = pid;

    public string? Comm { get; set; } = comm;

    /// <summary>Executable mappings, sorted by start, not overlapping.</summary>
    public IReadOnlyList<ProcMapsEntry> Regions => _regions;

    /// <summary>An image from /proc/PID/maps (executable mappings of files) and /proc/PID/comm; empty when the process is gone or not ours to read.</summary>
    public static ProcessImage FromProc(int pid)
    {
        string? comm = null;
        try
        {
            comm = File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        var image = new ProcessImage(pid, comm);
        try
        {
            foreach (ProcMapsEntry m in Procfs.Maps(pid))
            {
                if (m.IsExecutable && m.Path.StartsWith('/'))
                {
                    image.Add(m);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or MalformedDataException or Kscope.Native.KernelException)
        {
            // exited (ENOENT, ESRCH), not ours to read (EACCES), or a zombie: no mappings
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

    /// <summary>Adds an executable mapping (an MMAP2 record): start, end, file offset, path.</summary>
    public void Add(ulong start, ulong end, ulong offset, string path) => Add(new ProcMapsEntry(start, end, "r-xp", offset, "00:00", 0, path));

    /// <summary>Adds a mapping; it replaces whatever it overlaps (mmap over an old range unmaps it).</summary>
    public void Add(ProcMapsEntry region)
    {
        if (region.End <= region.Start)
        {
            return;
        }
        _regions.RemoveAll(r => r.Start < region.End && region.Start < r.End);
        int i = _regions.BinarySearch(region, StartComparer.Instance);
        _regions.Insert(i < 0 ? ~i : i, region);
    }

    public ProcMapsEntry? Find(ulong address)
    {
        int lo = 0, hi = _regions.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            ProcMapsEntry r = _regions[mid];
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

    private sealed class StartComparer : IComparer<ProcMapsEntry>
    {
        public static readonly StartComparer Instance = new();

        public int Compare(ProcMapsEntry? x, ProcMapsEntry? y) => x!.Start.CompareTo(y!.Start);
    }
}
