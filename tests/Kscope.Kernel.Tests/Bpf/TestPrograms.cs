using Kscope.Kernel.Bpf;
using static Kscope.Kernel.Bpf.Asm.Register;
using Kscope.Kernel.Bpf.Asm;

namespace Kscope.Kernel.Tests.Bpf;

/// <summary>Hand-assembled programs for kernel tests that must not depend on the object loader.</summary>
internal static class TestPrograms
{
    /// <summary>Maps: counter[0] += 1 (an Array map with 4-byte keys and 8-byte values).</summary>
    public static Map CounterMap() =>
        Map.Create(new MapSpec { Name = "kscope_count", Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 });

    /// <summary>counter[0]++ ; return 0.</summary>
    public static InstructionList Increment(Map counter, int returnValue = 0)
    {
        var list = new InstructionList();
        list.Emit(
            Asm.StoreImm(R10, -4, 0, Size.Word),
            Asm.LoadMapPtr(R1, counter.Fd.Value),
            Asm.Mov.Reg(R2, R10),
            Asm.Add.Imm(R2, -4),
            Asm.Call(BpfHelper.MapLookupElem),
            Asm.JEq.Imm(R0, 0, "out"),
            Asm.Mov.Imm(R1, 1),
            Asm.Atomic(AtomicOperation.Add, R0, 0, R1, Size.DWord));
        list.Label("out").Emit(Asm.Mov.Imm(R0, returnValue), Asm.Exit());
        return list.Link();
    }

    public static Program LoadCounter(ProgramType type, Map counter, string name = "kscope_count") =>
        Program.Load(new ProgramSpec { Name = name, Type = type, Instructions = Increment(counter) });

    public static ulong Read(Map counter) => counter.Lookup<uint, ulong>(0) ?? 0;

    /// <summary>
    /// SchedCls program: writes a 64-byte record (first 8 bytes = a per-run sequence from seq[0]) to
    /// <paramref name="output"/> — a ring buffer (bpf_ringbuf_output) or a perf event array
    /// (bpf_perf_event_output, BPF_F_CURRENT_CPU) — and counts failed writes in lost[0].
    /// </summary>
    public static InstructionList Producer(Map output, Map lost, Map seq)
    {
        var list = new InstructionList();
        list.Emit(Asm.Mov.Reg(R6, R1)); // ctx
        for (short off = -64; off < 0; off += 8)
        {
            list.Emit(Asm.StoreImm(R10, off, 0, Size.DWord));
        }
        // seq[0]++ -> record[0]
        list.Emit(
            Asm.StoreImm(R10, -72, 0, Size.Word),
            Asm.LoadMapPtr(R1, seq.Fd.Value),
            Asm.Mov.Reg(R2, R10),
            Asm.Add.Imm(R2, -72),
            Asm.Call(BpfHelper.MapLookupElem),
            Asm.JEq.Imm(R0, 0, "emit"),
            // A plain read-modify-write, not BPF_FETCH (5.12+): BPF_PROG_TEST_RUN repeats the program on
            // one CPU, one run after another, and 5.10 rejects fetch with "BPF_STX uses reserved fields".
            Asm.LoadMem(R1, R0, 0, Size.DWord),
            Asm.StoreMem(R10, -64, R1, Size.DWord),
            Asm.Add.Imm(R1, 1),
            Asm.StoreMem(R0, 0, R1, Size.DWord));
        if (output.Type == MapType.RingBuf)
        {
            list.Label("emit").Emit(
                Asm.LoadMapPtr(R1, output.Fd.Value),
                Asm.Mov.Reg(R2, R10),
                Asm.Add.Imm(R2, -64),
                Asm.Mov.Imm(R3, 64),
                Asm.Mov.Imm(R4, 0),
                Asm.Call(BpfHelper.RingbufOutput));
        }
        else
        {
            list.Label("emit").Emit(
                Asm.Mov.Reg(R1, R6),
                Asm.LoadMapPtr(R2, output.Fd.Value),
                Asm.LoadImm64(R3, 0xffffffff), // BPF_F_CURRENT_CPU
                Asm.Mov.Reg(R4, R10),
                Asm.Add.Imm(R4, -64),
                Asm.Mov.Imm(R5, 64),
                Asm.Call(BpfHelper.PerfEventOutput));
        }
        list.Emit(
            Asm.JEq.Imm(R0, 0, "out"),
            Asm.StoreImm(R10, -76, 0, Size.Word),
            Asm.LoadMapPtr(R1, lost.Fd.Value),
            Asm.Mov.Reg(R2, R10),
            Asm.Add.Imm(R2, -76),
            Asm.Call(BpfHelper.MapLookupElem),
            Asm.JEq.Imm(R0, 0, "out"),
            Asm.Mov.Imm(R1, 1),
            Asm.Atomic(AtomicOperation.Add, R0, 0, R1, Size.DWord));
        list.Label("out").Emit(Asm.Mov.Imm(R0, 0), Asm.Exit());
        return list.Link();
    }

    /// <summary>A minimal Ethernet frame for BPF_PROG_TEST_RUN of skb programs.</summary>
    public static byte[] Packet() => new byte[64];
}
