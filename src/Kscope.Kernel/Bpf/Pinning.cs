namespace Kscope.Kernel.Bpf;

using Kscope.Native;
using Kscope.Native.Bpf;

/// <summary>bpffs pinning: BPF_OBJ_PIN / BPF_OBJ_GET, mounting bpffs on /sys/fs/bpf when it is missing.</summary>
public static unsafe class Pinning
{
    public const string DefaultRoot = "/sys/fs/bpf";
    private static readonly object s_gate = new();

    /// <summary>Mounts bpffs on /sys/fs/bpf unless a bpffs is already there.</summary>
    public static void EnsureBpfFs(string root = DefaultRoot)
    {
        lock (s_gate)
        {
            if (IsBpfFs(root))
            {
                return;
            }
            Directory.CreateDirectory(root);
            Posix.Mount("bpf", root, "bpf");
        }
    }

    /// <summary>True when <paramref name="path"/> is on a bpffs mount (per /proc/self/mounts).</summary>
    public static bool IsBpfFs(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd('/');
        string best = "";
        string bestType = "";
        foreach (string line in File.ReadLines("/proc/self/mounts"))
        {
            string[] f = line.Split(' ');
            if (f.Length < 3)
            {
                continue;
            }
            string mount = f[1].TrimEnd('/');
            if ((full == mount || full.StartsWith(mount + "/", StringComparison.Ordinal) || mount.Length == 0) && mount.Length >= best.Length)
            {
                best = mount;
                bestType = f[2];
            }
        }
        return bestType == "bpf";
    }

    public static void Pin(SafeFd fd, string path, string operation)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && dir.StartsWith(DefaultRoot, StringComparison.Ordinal))
        {
            EnsureBpfFs();
            Directory.CreateDirectory(dir);
        }
        byte[] p = Map.Utf8Z(path);
        fixed (byte* pp = p)
        {
            var attr = new ObjPinAttr { Pathname = (ulong)pp, BpfFd = (uint)fd.Value };
            try
            {
                Bpf.ObjPin(ref attr);
            }
            catch (KernelException e)
            {
                throw new KernelException($"{operation} at {path}", e.Errno, e.Errno == Errno.EEXIST ? "something is already pinned there; remove it first" : e.Hint, e);
            }
        }
    }

    /// <summary>BPF_OBJ_GET of any pinned object.</summary>
    public static SafeFd Get(string path)
    {
        byte[] p = Map.Utf8Z(path);
        fixed (byte* pp = p)
        {
            var attr = new ObjPinAttr { Pathname = (ulong)pp };
            return Bpf.ObjGet(ref attr);
        }
    }
}
