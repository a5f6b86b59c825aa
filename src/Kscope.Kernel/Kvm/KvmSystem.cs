using System.Runtime.InteropServices;
using Kscope.Native;
using Kscope.Native.Kvm;

namespace Kscope.Kernel.Kvm;

/// <summary>
/// /dev/kvm: the API version check, capabilities, the supported CPUID table and VM creation.
/// Dispose closes the fd; VMs created from it stay valid (they hold their own references in the kernel).
/// </summary>
public sealed unsafe class KvmSystem : IDisposable
{
    public const string DevicePath = "/dev/kvm";

    private KvmSystem(SafeFd fd, int apiVersion, int vcpuMmapSize)
    {
        Fd = fd;
        ApiVersion = apiVersion;
        VcpuMmapSize = vcpuMmapSize;
    }

    public SafeFd Fd { get; }

    /// <summary>KVM_GET_API_VERSION; always 12 once <see cref="Open"/> returned.</summary>
    public int ApiVersion { get; }

    /// <summary>KVM_GET_VCPU_MMAP_SIZE.</summary>
    public int VcpuMmapSize { get; }

    /// <summary>
    /// Opens /dev/kvm and checks the API version. A missing device throws
    /// <see cref="KernelFeatureNotSupportedException"/>; EACCES a permission error; a version other than 12
    /// a <see cref="KernelException"/> (the ABI kscope mirrors would not apply).
    /// </summary>
    public static KvmSystem Open()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            throw new PlatformNotSupportedException("kscope's KVM binding mirrors the x86_64 structs (kvm_regs, kvm_sregs); this process is " + RuntimeInformation.ProcessArchitecture);
        }
        SafeFd fd;
        try
        {
            fd = Posix.Open(DevicePath, OpenFlags.O_RDWR);
        }
        catch (KernelException e) when (e.Errno is Errno.ENOENT or Errno.ENXIO or Errno.ENODEV)
        {
            throw new KernelFeatureNotSupportedException("open /dev/kvm", null, e.Errno,
                "load kvm_intel or kvm_amd (or enable nested virtualization for this VM)");
        }
        catch (KernelException e) when (e.Errno is Errno.EACCES or Errno.EPERM)
        {
            throw new KernelPermissionException("open /dev/kvm", e.Errno, "run as root or join the group owning /dev/kvm (often 'kvm')");
        }
        try
        {
            int version = KvmApi.GetApiVersion(fd);
            if (version != KvmApi.ApiVersion)
            {
                throw new KernelException($"KVM API version is {version}, kscope needs {KvmApi.ApiVersion}", Errno.EINVAL);
            }
            return new KvmSystem(fd, version, KvmApi.GetVcpuMmapSize(fd));
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>KVM_CHECK_EXTENSION on /dev/kvm: 0 = absent, otherwise capability-specific (often 1, or a count).</summary>
    public int CheckExtension(KvmCapability capability) => KvmApi.CheckExtension(Fd, capability);

    /// <summary>KVM_GET_SUPPORTED_CPUID: every leaf this host's KVM can expose to a guest (grows the buffer on E2BIG).</summary>
    public KvmCpuidEntry2[] GetSupportedCpuid()
    {
        for (int capacity = 128; ; capacity *= 2)
        {
            int bytes = sizeof(KvmCpuid2) + capacity * sizeof(KvmCpuidEntry2);
            byte* buffer = (byte*)NativeMemory.AllocZeroed((nuint)bytes);
            try
            {
                var header = (KvmCpuid2*)buffer;
                header->Nent = (uint)capacity;
                try
                {
                    KvmApi.GetSupportedCpuid(Fd, header);
                }
                catch (KernelException e) when (e.Errno == Errno.E2BIG && capacity < 4096)
                {
                    continue;
                }
                var entries = new ReadOnlySpan<KvmCpuidEntry2>(buffer + sizeof(KvmCpuid2), (int)Math.Min(header->Nent, (uint)capacity));
                return entries.ToArray();
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
    }

    /// <summary>KVM_CREATE_VM.</summary>
    public VirtualMachine CreateVm() => new(this, KvmApi.CreateVm(Fd));

    public void Dispose() => Fd.Dispose();
}
