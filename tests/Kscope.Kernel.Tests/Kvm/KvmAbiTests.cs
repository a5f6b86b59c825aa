using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kscope.Native;
using Kscope.Native.Kvm;

namespace Kscope.Kernel.Tests.Kvm;

public class KvmAbiTests
{
    [Fact]
    public void Mirrors_Sizes_MatchUapiHeaders()
    {
        Assert.Equal(2352, Unsafe.SizeOf<KvmRun>());
        Assert.Equal(144, Unsafe.SizeOf<KvmRegs>());
        Assert.Equal(312, Unsafe.SizeOf<KvmSregs>());
        Assert.Equal(24, Unsafe.SizeOf<KvmSegment>());
        Assert.Equal(16, Unsafe.SizeOf<KvmDtable>());
        Assert.Equal(32, Unsafe.SizeOf<KvmUserspaceMemoryRegion>());
        Assert.Equal(8, Unsafe.SizeOf<KvmCpuid2>());
        Assert.Equal(40, Unsafe.SizeOf<KvmCpuidEntry2>());
        Assert.Equal(416, Unsafe.SizeOf<KvmFpu>());
        Assert.Equal(8, Unsafe.SizeOf<KvmMsrs>());
        Assert.Equal(16, Unsafe.SizeOf<KvmMsrEntry>());
        Assert.Equal(152, Unsafe.SizeOf<SigAction>());
    }

    [Fact]
    public void IoctlNumbers_EqualGccFromLinuxKvmH()
    {
        Dictionary<string, ulong> gcc = CompileAndRun(Program());
        foreach ((string name, nuint request) in KvmIoctl.All)
        {
            Assert.True(gcc.ContainsKey(name), $"{name} missing from the C program");
            Assert.True(gcc[name] == request, $"{name}: kscope 0x{request:x}, gcc 0x{gcc[name]:x}");
        }
        foreach (KvmCapability cap in Enum.GetValues<KvmCapability>())
        {
            string name = "KVM_CAP_" + Snake(cap.ToString());
            Assert.True(gcc.TryGetValue(name, out ulong value), $"{name} missing from the C program");
            Assert.Equal(value, (ulong)(int)cap);
        }
        foreach (KvmExitReason reason in new[] { KvmExitReason.Io, KvmExitReason.Mmio, KvmExitReason.Hlt, KvmExitReason.Shutdown,
            KvmExitReason.FailEntry, KvmExitReason.InternalError, KvmExitReason.SystemEvent, KvmExitReason.Intr })
        {
            Assert.Equal(gcc["KVM_EXIT_" + Kscope.Kernel.Kvm.VcpuExit.Name(reason)], (ulong)reason);
        }
        Assert.Equal(gcc["sizeof(struct sigaction)"], (ulong)Unsafe.SizeOf<SigAction>());
        Assert.Equal(gcc["offsetof(sa_mask)"], (ulong)Marshal.OffsetOf<SigAction>(nameof(SigAction.Mask)));
        Assert.Equal(gcc["offsetof(sa_flags)"], (ulong)Marshal.OffsetOf<SigAction>(nameof(SigAction.Flags)));
        Assert.Equal(gcc["offsetof(sa_restorer)"], (ulong)Marshal.OffsetOf<SigAction>(nameof(SigAction.Restorer)));
        Assert.Equal(gcc["SIGRTMAX"] - 1, (ulong)KickSignal.Number);
    }

    [Fact]
    public void IoctlNumber_WrongMirrorSize_ChangesTheNumber()
    {
        // A kvm_regs mirror missing rflags (136 bytes) encodes a different KVM_SET_REGS: the kernel would answer
        // ENOTTY instead of reading 8 bytes past the managed struct.
        nuint right = IoctlNumber.Iow<KvmRegs>(KvmIoctl.KvmIo, 0x82);
        nuint wrong = IoctlNumber.Iow<KvmRegsMissingRflags>(KvmIoctl.KvmIo, 0x82);
        Assert.Equal(0x4090ae82u, right);
        Assert.NotEqual(right, wrong);
        Assert.Equal(136, IoctlNumber.SizeOf(wrong));
        Assert.Throws<ArgumentOutOfRangeException>(() => IoctlNumber.Encode(IoctlNumber.DirectionWrite, 0xae, 1, 1 << 14));
    }

    private struct KvmRegsMissingRflags
    {
#pragma warning disable CS0649
        public unsafe fixed ulong Regs[17];
#pragma warning restore CS0649
    }

    // The kernel's spelling for names where PascalCase -> SNAKE_CASE is ambiguous around digits.
    private static string Snake(string pascal) => pascal switch
    {
        "X86UserSpaceMsr" => "X86_USER_SPACE_MSR",
        "X2ApicApi" => "X2APIC_API",
        _ => string.Concat(pascal.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant(),
    };

    private static string Program()
    {
        var lines = new List<string>();
        foreach ((string name, _) in KvmIoctl.All)
        {
            lines.Add($"P({name});");
        }
        foreach (KvmCapability cap in Enum.GetValues<KvmCapability>())
        {
            lines.Add($"P(KVM_CAP_{Snake(cap.ToString())});");
        }
        foreach (string exit in new[] { "IO", "MMIO", "HLT", "SHUTDOWN", "FAIL_ENTRY", "INTERNAL_ERROR", "SYSTEM_EVENT", "INTR" })
        {
            lines.Add($"P(KVM_EXIT_{exit});");
        }
        return $$"""
            #include <linux/kvm.h>
            #include <signal.h>
            #include <stddef.h>
            #include <stdio.h>
            #define P(x) printf("%s %llu\n", #x, (unsigned long long)(x))
            int main(void) {
            {{string.Join("\n", lines)}}
            printf("sizeof(struct sigaction) %zu\n", sizeof(struct sigaction));
            printf("offsetof(sa_mask) %zu\n", offsetof(struct sigaction, sa_mask));
            printf("offsetof(sa_flags) %zu\n", offsetof(struct sigaction, sa_flags));
            printf("offsetof(sa_restorer) %zu\n", offsetof(struct sigaction, sa_restorer));
            printf("SIGRTMAX %d\n", SIGRTMAX);
            return 0;
            }
            """;
    }

    private static Dictionary<string, ulong> CompileAndRun(string source)
    {
        string gcc = Requires.Tool("gcc", "gcc");
        string dir = Directory.CreateTempSubdirectory("kscope-kvm-abi-").FullName;
        try
        {
            string c = Path.Combine(dir, "abi.c");
            string exe = Path.Combine(dir, "abi");
            File.WriteAllText(c, source);
            Tools.Check(gcc, "-o", exe, c);
            var result = new Dictionary<string, ulong>();
            foreach (string line in Tools.Check(exe).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                int space = line.LastIndexOf(' ');
                result[line[..space]] = ulong.Parse(line[(space + 1)..]);
            }
            return result;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
