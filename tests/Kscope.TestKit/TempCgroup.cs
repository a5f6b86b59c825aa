using System.Globalization;

namespace Kscope.TestKit;

/// <summary>
/// A child cgroup made for one test, removed on dispose after whatever still runs in it is killed. The one
/// owner of shared cgroup state in a test process: it mounts a missing hierarchy (through the cgroup
/// probes), enables a controller in the unified root's cgroup.subtree_control once, under a lock, and
/// never disables one; it creates shared parents such as system.slice or docker/ with a reference count
/// and removes only those it created, when the last child using them goes. A machine that cannot have the
/// controller or hierarchy skips through its <see cref="KernelProbe"/>.
/// </summary>
public sealed class TempCgroup : IDisposable
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<string, (int Users, bool Created)> s_parents = new(StringComparer.Ordinal);
    private static int s_counter;

    private readonly List<string> _parents;

    private TempCgroup(string root, string dir, bool v2, List<string> parents)
    {
        Root = root;
        Dir = dir;
        V2 = v2;
        _parents = parents;
    }

    /// <summary>The mount point of the hierarchy.</summary>
    public string Root { get; }

    /// <summary>The cgroup's directory.</summary>
    public string Dir { get; }

    /// <summary>The cgroup's path as /proc/PID/cgroup shows it ("/system.slice/docker-ID.scope").</summary>
    public string Path => "/" + System.IO.Path.GetRelativePath(Root, Dir);

    /// <summary>True on the unified (v2) hierarchy.</summary>
    public bool V2 { get; }

    /// <summary>A child of the hierarchy holding <paramref name="controller"/>: the unified one when it has it, else its v1 hierarchy.</summary>
    public static TempCgroup Create(string controller)
    {
        Requires.Root();
        Requires.Kernel(CgroupSetup.AnyProbe(controller));
        string? unified = CgroupSetup.Unified(out _);
        if (unified is not null && CgroupSetup.V2Controllers(unified).Contains(controller))
        {
            EnableOnUnifiedRoot(unified, controller);
            return Make(unified, null, v2: true, []);
        }
        string v1 = CgroupSetup.V1Mount(controller) ?? throw new InvalidOperationException($"probe {CgroupSetup.AnyProbe(controller)} said present, but no hierarchy has {controller}");
        return Make(v1, null, v2: false, []);
    }

    /// <summary>
    /// A cgroup on the unified hierarchy at <paramref name="path"/> under its root (a fresh name when null) with
    /// <paramref name="controllers"/> enabled for it; skips only when the machine cannot have cgroup v2 or one of them there.
    /// </summary>
    public static TempCgroup CreateV2(string? path = null, params string[] controllers)
    {
        Requires.Root();
        Requires.Kernel(KernelProbe.CgroupV2);
        foreach (string c in controllers)
        {
            Requires.Kernel(CgroupSetup.V2Probe(c));
        }
        string unified = CgroupSetup.Unified(out string ev) ?? throw new InvalidOperationException("probe CgroupV2 said present: " + ev);
        foreach (string c in controllers)
        {
            EnableOnUnifiedRoot(unified, c);
        }
        return Make(unified, path, v2: true, controllers);
    }

    /// <summary>A cgroup on the v1 hierarchy of <paramref name="controller"/> at <paramref name="path"/> (a fresh name when null).</summary>
    public static TempCgroup CreateV1(string controller, string? path = null)
    {
        Requires.Root();
        if (controller != "cpu")
        {
            throw new ArgumentException("only cpu has a v1 probe (KernelProbe.CgroupV1Cpu): add one", nameof(controller));
        }
        Requires.Kernel(KernelProbe.CgroupV1Cpu);
        string v1 = CgroupSetup.V1Mount(controller) ?? throw new InvalidOperationException("probe CgroupV1Cpu said present, but no v1 hierarchy has cpu");
        return Make(v1, path, v2: false, []);
    }

    public void Write(string file, string value) => File.WriteAllText(System.IO.Path.Combine(Dir, file), value);

    public string Read(string file) => File.ReadAllText(System.IO.Path.Combine(Dir, file)).Trim();

    public ulong ReadNumber(string file) => ulong.Parse(Read(file), CultureInfo.InvariantCulture);

    /// <summary>Moves <paramref name="pid"/> into this cgroup.</summary>
    public void Add(int pid) => Write("cgroup.procs", pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>A shell command that moves the shell into this cgroup, then runs <paramref name="then"/> (exec it to keep the pid).</summary>
    public string Enter(string then) => $"echo $$ > {System.IO.Path.Combine(Dir, "cgroup.procs")} && {then}";

    /// <summary>The pids in the cgroup now.</summary>
    public IReadOnlyList<int> Pids() =>
        File.ReadAllLines(System.IO.Path.Combine(Dir, "cgroup.procs")).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList();

    public void Dispose()
    {
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Directory.Exists(Dir))
            {
                if (Directory.Exists(Dir) && File.Exists(System.IO.Path.Combine(Dir, "cgroup.procs")))
                {
                    foreach (int pid in SafePids())
                    {
                        Kill(pid);
                    }
                }
                try
                {
                    Directory.Delete(Dir);
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(20); // killed tasks leave the cgroup asynchronously
                }
                catch (IOException e)
                {
                    throw new InvalidOperationException($"could not remove {Dir} within 60 s: {e.Message}; still in it: {string.Join(' ', SafePids())}", e);
                }
            }
        }
        finally
        {
            ReleaseParents(_parents);
        }
    }

    private static void Kill(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            p.Kill(entireProcessTree: false);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // already gone
        }
    }

    private List<int> SafePids()
    {
        try
        {
            return [.. Pids()];
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static TempCgroup Make(string root, string? path, bool v2, string[] controllers)
    {
        string relative = path?.Trim('/') ?? $"kscope-test-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}-{Guid.NewGuid().ToString("N")[..8]}";
        string dir = System.IO.Path.Combine(root, relative);
        var parents = new List<string>();
        lock (s_lock)
        {
            // Shared ancestors (system.slice, docker): created when missing, counted, enabled for the controllers asked.
            string? parent = System.IO.Path.GetDirectoryName(dir);
            var chain = new List<string>();
            for (; parent is not null && parent.Length > root.TrimEnd('/').Length; parent = System.IO.Path.GetDirectoryName(parent))
            {
                chain.Insert(0, parent);
            }
            foreach (string p in chain)
            {
                bool created = false;
                if (!Directory.Exists(p))
                {
                    Directory.CreateDirectory(p);
                    created = true;
                }
                var (users, wasCreated) = s_parents.GetValueOrDefault(p);
                s_parents[p] = (users + 1, wasCreated || created);
                parents.Add(p);
                if (v2)
                {
                    foreach (string c in controllers)
                    {
                        Enable(p, c);
                    }
                }
            }
        }
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch
        {
            ReleaseParents(parents);
            throw;
        }
        return new TempCgroup(root, dir, v2, parents);
    }

    private static void ReleaseParents(List<string> parents)
    {
        lock (s_lock)
        {
            foreach (string p in Enumerable.Reverse(parents))
            {
                var (users, created) = s_parents[p];
                if (users > 1)
                {
                    s_parents[p] = (users - 1, created);
                    continue;
                }
                s_parents.Remove(p);
                if (created)
                {
                    try
                    {
                        Directory.Delete(p);
                    }
                    catch (IOException)
                    {
                        // Another process's test uses it now; it is left for it.
                    }
                }
            }
        }
    }

    private static readonly HashSet<string> s_enabledOnRoot = new(StringComparer.Ordinal);

    /// <summary>
    /// "+controller" in <paramref name="dir"/>'s cgroup.subtree_control on the unified hierarchy mounted at
    /// <paramref name="root"/>: for the root once per process, under the fixture's lock (for other cgroup fixtures).
    /// </summary>
    public static void EnableController(string root, string dir, string controller)
    {
        if (System.IO.Path.GetFullPath(dir).TrimEnd('/') == System.IO.Path.GetFullPath(root).TrimEnd('/'))
        {
            EnableOnUnifiedRoot(root, controller);
            return;
        }
        lock (s_lock)
        {
            Enable(dir, controller);
        }
    }

    /// <summary>Once per process: "+controller" in the unified root's cgroup.subtree_control (children get its files only then).</summary>
    private static void EnableOnUnifiedRoot(string root, string controller)
    {
        lock (s_lock)
        {
            if (s_enabledOnRoot.Add(controller))
            {
                Enable(root, controller);
            }
        }
    }

    private static void Enable(string dir, string controller)
    {
        string file = System.IO.Path.Combine(dir, "cgroup.subtree_control");
        if (File.ReadAllText(file).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Contains(controller))
        {
            return;
        }
        File.WriteAllText(file, "+" + controller);
        Assert.Contains(controller, File.ReadAllText(file).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries));
    }
}
