using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kscope.Kernel.Btf;
using Kscope.Native;

namespace Kscope.Kernel.Tests.Btf;

public class KernelStructVerifierTests
{
    private static Kscope.Formats.Btf.Btf Vmlinux()
    {
        if (!VmlinuxBtf.IsAvailable)
        {
            Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
        }
        return VmlinuxBtf.Get();
    }

    public static TheoryData<string> ShippedAssemblies => new() { typeof(SafeFd).Assembly.Location, typeof(VmlinuxBtf).Assembly.Location };

    /// <summary>The mirrors follow this development host's kernel; older kernels (the tests/kernels guests) may lack newer members.</summary>
    private static readonly Version s_mirrorsKernel = new(6, 18);

    [Theory]
    [Trait("Category", "Kernel")]
    [MemberData(nameof(ShippedAssemblies))]
    public void EveryKernelStruct_InShippedAssembly_MatchesRunningKernel(string assemblyPath)
    {
        string release = Posix.Uname().Release;
        bool older = Version.TryParse(string.Concat(release.TakeWhile(c => char.IsDigit(c) || c == '.')).TrimEnd('.'), out Version? running) && running < s_mirrorsKernel;
        var verifier = new KernelStructVerifier(Vmlinux()) { AllowOlderKernel = older };
        IReadOnlyList<KernelStructMismatch> mismatches = verifier.VerifyAssembly(assemblyPath, out IReadOnlyList<ManagedStructLayout> checkedTypes);
        // KVM structs live in vmlinux BTF only when KVM is built in; as a module that is not loaded (the
        // tests/kernels guests: no /dev/kvm under emulation) the kernel has no BTF for them to compare.
        // KVM's uapi structs are in vmlinux only when KVM is built in (as here); Debian builds kvm as a module,
        // unloaded in the QEMU guests (no /dev/kvm), and its vmlinux carries only a few kvm_* structs.
        // A loaded kvm module has them in its split BTF (/sys/kernel/btf/kvm): those are checked there.
        static bool NotInVmlinux(KernelStructMismatch m) =>
            m.KernelName.StartsWith("kvm_", StringComparison.Ordinal) && m.Field is null && m.Message.Contains("has no struct or union named", StringComparison.Ordinal);
        bool kvmModule = VmlinuxBtf.ModuleNames().Contains("kvm");
        var inModule = new List<KernelStructMismatch>();
        if (kvmModule)
        {
            var moduleVerifier = new KernelStructVerifier(VmlinuxBtf.GetModule("kvm")) { AllowOlderKernel = older };
            foreach (ManagedStructLayout t in checkedTypes.Where(t => mismatches.Any(m => m.TypeName == t.TypeName && NotInVmlinux(m))))
            {
                inModule.AddRange(moduleVerifier.Verify(t));
            }
        }
        bool kvmBuiltIn = File.Exists("/dev/kvm") && !kvmModule;
        mismatches = [.. mismatches.Where(m => kvmBuiltIn || !NotInVmlinux(m)), .. inModule];
        Assert.True(mismatches.Count == 0,
            $"{mismatches.Count} mismatches in {Path.GetFileName(assemblyPath)} against /sys/kernel/btf/vmlinux ({release}{(older ? ", members newer than it tolerated" : "")}):\n" + string.Join('\n', mismatches));
        if (Path.GetFileName(assemblyPath) == "Kscope.Native.dll")
        {
            Assert.NotEmpty(checkedTypes);
        }
        Console.WriteLine($"{Path.GetFileName(assemblyPath)}: {checkedTypes.Count} [KernelStruct] types verified: " + string.Join(", ", checkedTypes.Select(t => t.TypeName)));
    }

    [Theory]
    [MemberData(nameof(ShippedAssemblies))]
    public void MetadataLayout_MatchesRuntimeLayout(string assemblyPath)
    {
        Assembly assembly = AppDomain.CurrentDomain.GetAssemblies().Single(a => !a.IsDynamic && a.Location == assemblyPath);
        using var reader = new ManagedLayoutReader(assemblyPath);
        foreach (ManagedStructLayout layout in reader.ReadKernelStructs())
        {
            AssertRuntimeLayout(assembly, layout);
        }
    }

    [Fact]
    public void MetadataLayout_OfTestMirrors_MatchesRuntimeLayout()
    {
        using var reader = new ManagedLayoutReader(typeof(KernelStructVerifierTests).Assembly.Location);
        IReadOnlyList<ManagedStructLayout> layouts = reader.ReadKernelStructs();
        Assert.True(layouts.Count >= 10);
        foreach (ManagedStructLayout layout in layouts)
        {
            AssertRuntimeLayout(typeof(KernelStructVerifierTests).Assembly, layout);
        }
    }

    private static void AssertRuntimeLayout(Assembly assembly, ManagedStructLayout layout)
    {
        Type type = assembly.GetType(layout.TypeName, throwOnError: true)!;
        int size = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
        Assert.True(size == layout.Size, $"{layout.TypeName}: metadata size {layout.Size}, runtime {size}");
        foreach (ManagedField f in layout.Fields)
        {
            int offset = (int)Marshal.OffsetOf(type, f.Name);
            Assert.True(offset == f.Offset, $"{layout.TypeName}.{f.Name}: metadata offset {f.Offset}, runtime {offset}");
        }
    }

    [Fact]
    public void Verify_DeliberatelyWrongStructs_AreCaughtWithClearText()
    {
        var verifier = new KernelStructVerifier(Vmlinux());
        IReadOnlyList<KernelStructMismatch> all = verifier.VerifyAssembly(typeof(KernelStructVerifierTests).Assembly.Location, out _);
        string Of(string type) => string.Join('\n', all.Where(m => m.TypeName.EndsWith("." + type, StringComparison.Ordinal)));

        Assert.Empty(Of(nameof(GoodKvmUserspaceMemoryRegion)));
        Assert.Empty(Of(nameof(GoodKvmRunIoPrefix)));
        Assert.Empty(Of(nameof(GoodKvmRunFixedBuffer)));

        Assert.Contains("size 136, kernel 144", Of(nameof(BadKvmRegsSize)));
        string swapped = Of(nameof(BadKvmUserspaceMemoryRegionOffset));
        Assert.Contains("Slot (kvm_userspace_memory_region): offset 4, kernel 'slot' is at 0", swapped);
        Assert.Contains("Flags (kvm_userspace_memory_region): offset 0, kernel 'flags' is at 4", swapped);
        string epoll = Of(nameof(BadEpollEventAlignment));
        Assert.Contains("size 16, kernel 12", epoll);
        Assert.Contains("Data (epoll_event): offset 8, kernel 'data' is at 4", epoll);
        string fields = Of(nameof(BadKvmUserspaceMemoryRegionFields));
        Assert.Contains("MemorySize (kvm_userspace_memory_region): size 4, kernel 'memory_size' is 8 bytes", fields);
        Assert.Contains("has no member 'userspace_adr'", fields);
        Assert.Contains("'disabled' is a 1-bit bitfield", Of(nameof(BadPerfEventAttrBitfield)));
        Assert.Contains("no struct or union named 'kscope_no_such_struct'", Of(nameof(BadUnknownStruct)));
        Assert.Contains("InterruptBitmap (kvm_sregs): size 24, kernel 'interrupt_bitmap' is 32 bytes", Of(nameof(BadKvmSregsFixedBuffer)));
    }

    [Fact]
    public void Verify_AllowOlderKernel_ToleratesOnlyUnknownMembersAndLargerSizes()
    {
        var verifier = new KernelStructVerifier(Vmlinux()) { AllowOlderKernel = true };
        IReadOnlyList<KernelStructMismatch> all = verifier.VerifyAssembly(typeof(KernelStructVerifierTests).Assembly.Location, out _);
        string Of(string type) => string.Join('\n', all.Where(m => m.TypeName.EndsWith("." + type, StringComparison.Ordinal)));

        string fields = Of(nameof(BadKvmUserspaceMemoryRegionFields));
        Assert.DoesNotContain("userspace_adr", fields);
        Assert.Contains("MemorySize (kvm_userspace_memory_region): size 4, kernel 'memory_size' is 8 bytes", fields);
        Assert.Contains("Slot (kvm_userspace_memory_region): offset 4, kernel 'slot' is at 0", Of(nameof(BadKvmUserspaceMemoryRegionOffset)));
        Assert.Contains("size 136, kernel 144", Of(nameof(BadKvmRegsSize)));
        string epoll = Of(nameof(BadEpollEventAlignment));
        Assert.DoesNotContain("size 16, kernel 12", epoll);
        Assert.Contains("Data (epoll_event): offset 8, kernel 'data' is at 4", epoll);
    }

    [Theory]
    [InlineData("ExitReason", "exit_reason")]
    [InlineData("Cr0", "cr0")]
    [InlineData("ApicBase", "apic_base")]
    [InlineData("IOPort", "io_port")]
    [InlineData("BtfVmlinuxValueTypeId", "btf_vmlinux_value_type_id")]
    [InlineData("Ipv4Addr", "ipv4_addr")]
    [InlineData("R8", "r8")]
    public void ToSnakeCase_PascalCase_KernelName(string managed, string kernel) => Assert.Equal(kernel, KernelNames.ToSnakeCase(managed));

    [Fact]
    public void VmlinuxBtf_Get_IsCachedAndModulesListed()
    {
        Kscope.Formats.Btf.Btf a = Vmlinux();
        Assert.Same(a, VmlinuxBtf.Get());
        foreach (string module in VmlinuxBtf.ModuleNames().Take(3))
        {
            Kscope.Formats.Btf.Btf m = VmlinuxBtf.GetModule(module);
            Assert.Same(a, m.Base);
        }
    }
}
