using System.Runtime.InteropServices;
using Kscope.Formats.Btf;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Loader;
using Kscope.Kernel.Btf;
using Kscope.Native;

namespace Kscope.Kernel.Tests.Bpf;

/// <summary>
/// The CO-RE relocation kinds beyond field byte offset and existence (core_kinds.bpf.c, written with
/// libbpf's bpf_core_read.h macros and deliberately wrong local types): every value the program computed
/// must be the one read independently from the running kernel's vmlinux BTF, and the bitfield read
/// (BPF_CORE_READ_BITFIELD_PROBED, which combines byte offset, byte size, signedness and both shifts)
/// must give sched_reset_on_fork's real value: what sched_getscheduler(2) says for the test thread
/// that ran it, and 1 for a child run under chrt --reset-on-fork.
/// </summary>
[Trait("Category", "Kernel")]
public class CoreKindsTests(ITestOutputHelper output)
{
    [Fact]
    public void CoreKinds_FieldTypeAndEnumRelocations_MatchThisKernelsBtf()
    {
        Requires.Root();
        if (!VmlinuxBtf.IsAvailable)
        {
            Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
        }
        Kscope.Formats.Btf.Btf btf = VmlinuxBtf.Get();
        BtfType task = btf.FindType("task_struct", BtfKind.Struct) ?? throw new InvalidOperationException("no struct task_struct in vmlinux BTF");
        BtfType pidType = btf.FindType("pid_type", BtfKind.Enum) ?? throw new InvalidOperationException("no enum pid_type in vmlinux BTF");

        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.Test("core_kinds"));
        spec.SetVariable("target_tgid", (uint)Environment.ProcessId);
        using Collection c = Collection.Load(spec);
        c.AttachAll();
        ulong Read(string name) // from .bss, or .data for the globals initialized to a sentinel
        {
            VariableSpec v = spec.Variables[name];
            Map map = c.Maps[v.MapName];
            var value = new byte[map.ValueSize];
            Assert.True(map.Lookup(new byte[4], value));
            return BitConverter.ToUInt64(value, (int)v.Offset);
        }
        for (int i = 0; i < 5 && Read("seen") == 0; i++)
        {
            _ = Directory.GetCurrentDirectory(); // getcwd(2)
            Thread.Sleep(10);
        }
        Assert.True(Read("seen") > 0, "the getcwd tracepoint never ran for this process");

        void Expect(string variable, ulong expected)
        {
            ulong actual = Read(variable);
            output.WriteLine($"co-re: {variable} = {actual} (btf {expected})");
            Assert.True(expected == actual, $"{variable}: relocated {actual}, vmlinux BTF says {expected}");
        }

        // Plain fields: size and signedness of the kernel's member type (int prio, unsigned int flags).
        foreach (string field in new[] { "prio", "flags" })
        {
            (BtfMember m, _) = Member(btf, task, field);
            Expect(field + "_size", (ulong)btf.SizeOf(m.TypeId));
            Expect(field + "_signed", btf.ResolveType(m.TypeId).IsSigned ? 1UL : 0UL);
        }
        Assert.Equal(1UL, Read("prio_signed")); // the local type says unsigned long long
        Assert.Equal(4UL, Read("prio_size"));

        // Bitfields: the load unit is the member type's size, aligned to it; the shifts isolate the bits in it.
        foreach ((string field, string prefix) in new[] { ("sched_reset_on_fork", "reset"), ("in_iowait", "iowait") })
        {
            (BtfMember m, long bitOffset) = Member(btf, task, field);
            Assert.True(m.IsBitfield, $"task_struct.{field} is not a bitfield in this kernel");
            long unit = btf.SizeOf(m.TypeId);
            long byteOffset = bitOffset / 8 / unit * unit;
            Assert.True(bitOffset + m.BitfieldSize <= (byteOffset + unit) * 8);
            if (prefix == "reset")
            {
                Expect("reset_size", (ulong)unit);
                Expect("reset_signed", btf.ResolveType(m.TypeId).IsSigned ? 1UL : 0UL);
            }
            else
            {
                Expect("iowait_size", (ulong)unit);
            }
            Expect(prefix + "_offset", (ulong)byteOffset);
            Expect(prefix + "_lshift", (ulong)(64 - (bitOffset + m.BitfieldSize - byteOffset * 8)));
            Expect(prefix + "_rshift", 64UL - m.BitfieldSize);
        }
        // sched_getscheduler(2) of the thread that ran the program: SCHED_RESET_ON_FORK (0x40000000) is that flag.
        int tid = (int)Read("reset_tid");
        int policy = Syscall.SchedGetScheduler(tid);
        output.WriteLine($"sched_getscheduler({tid}) = 0x{policy:x}");
        Expect("reset_value", (policy & 0x40000000) != 0 ? 1UL : 0UL);
        Expect("iowait_value", 0); // running, not waiting for I/O

        // Types and enums.
        Expect("task_type_id", (ulong)task.Id);
        Expect("task_exists", 1);
        Expect("missing_exists", 0);
        Expect("task_size", (ulong)btf.SizeOf(task.Id));
        Expect("sid_value", (ulong)pidType.EnumValues.Single(v => v.Name == "PIDTYPE_SID").Value);
        Expect("tgid_exists", 1);
        Expect("none_exists", 0);

        // A child with SCHED_RESET_ON_FORK set (chrt execs pwd, which calls getcwd): the bitfield reads 1.
        string chrt = Requires.Tool("chrt", "util-linux"); // .ci/install-deps installs it: missing, the check fails under KSCOPE_STRICT=1
        var (code, _, err) = Tools.Run(chrt, "--reset-on-fork", "--other", "0", "pwd");
        Assert.True(code == 0, $"chrt --reset-on-fork --other 0 pwd: exit {code}: {err}");
        Assert.True(Read("child_seen") > 0, "the getcwd tracepoint never ran for the chrt child");
        Expect("child_reset_value", 1);
    }

    /// <summary>A member by name and its bit offset from the start of the struct, through anonymous members.</summary>
    private static (BtfMember Member, long BitOffset) Member(Kscope.Formats.Btf.Btf btf, BtfType type, string name)
    {
        foreach (BtfMember m in type.Members)
        {
            if (m.Name == name)
            {
                return (m, m.BitOffset);
            }
        }
        foreach (BtfMember m in type.Members)
        {
            BtfType inner = btf.ResolveType(m.TypeId);
            if (m.Name.Length == 0 && inner.IsComposite && inner.Members.Any(x => x.Name == name || x.Name.Length == 0))
            {
                try
                {
                    (BtfMember found, long offset) = Member(btf, inner, name);
                    return (found, m.BitOffset + offset);
                }
                catch (KeyNotFoundException)
                {
                }
            }
        }
        throw new KeyNotFoundException($"{type.Name} has no member {name}");
    }
}
