using System.Globalization;
using Kscope.Kernel.Host;

namespace Kscope.Cli.Tests.Doctor;

/// <summary>
/// A child cgroup created for one test in the hierarchy holding <c>controller</c> (v2 when the unified
/// hierarchy has it, else its v1 hierarchy), removed on dispose after its processes were killed.
/// </summary>
internal sealed class TempCgroup : IDisposable
{
    private TempCgroup(CgroupHierarchy hierarchy, string dir)
    {
        Hierarchy = hierarchy;
        Dir = dir;
    }

    public CgroupHierarchy Hierarchy { get; }

    public string Dir { get; }

    public bool V2 => Hierarchy.Version == 2;

    /// <summary>Null when no mounted hierarchy has the controller (the caller skips: the kernel lacks it).</summary>
    public static TempCgroup? Create(string controller)
    {
        CgroupLimits self = CgroupLimits.Read();
        CgroupHierarchy? h = self.Hierarchies.FirstOrDefault(x => x.Version == 2 && x.Has(controller))
            ?? self.Hierarchies.FirstOrDefault(x => x.Version == 1 && x.Has(controller));
        if (h is null)
        {
            return null;
        }
        if (h.Version == 2)
        {
            // Children get the controller's files only once the parent enables it for them.
            File.WriteAllText(Path.Combine(h.MountPoint, "cgroup.subtree_control"), "+" + controller);
        }
        string dir = Path.Combine(h.MountPoint, $"kscope-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return new TempCgroup(h, dir);
    }

    public void Write(string file, string value) => File.WriteAllText(Path.Combine(Dir, file), value);

    public string Read(string file) => File.ReadAllText(Path.Combine(Dir, file)).Trim();

    public ulong ReadNumber(string file) => ulong.Parse(Read(file), CultureInfo.InvariantCulture);

    /// <summary>A shell command that moves the shell into this cgroup, then runs <paramref name="then"/> (exec it to keep the pid).</summary>
    public string Enter(string then) => $"echo $$ > {Path.Combine(Dir, "cgroup.procs")} && {then}";

    public void Dispose()
    {
        for (int attempt = 0; attempt < 100 && Directory.Exists(Dir); attempt++)
        {
            try
            {
                Directory.Delete(Dir);
            }
            catch (IOException)
            {
                Thread.Sleep(20); // killed tasks leave the cgroup asynchronously
            }
        }
        Assert.False(Directory.Exists(Dir), $"could not remove {Dir}");
    }
}
