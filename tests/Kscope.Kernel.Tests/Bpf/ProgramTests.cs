using Kscope.Kernel.Bpf;
using static Kscope.Kernel.Bpf.Asm.Register;
using Kscope.Kernel.Bpf.Asm;

namespace Kscope.Kernel.Tests.Bpf;

[Trait("Category", "Kernel")]
public class ProgramTests
{
    [Fact]
    public void Load_CounterProgram_TestRunIncrementsMap()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.SocketFilter, counter);
        TestRunResult r = p.TestRun(TestPrograms.Packet(), repeat: 10);
        Assert.Equal(0u, r.ReturnValue);
        Assert.Equal(10UL, TestPrograms.Read(counter));

        var info = p.Info();
        Assert.Equal((uint)ProgramType.SocketFilter, info.Type);
        Assert.True(info.JitedProgLen > 0);
        Assert.Contains(p.Id, Program.AllIds());
        InstructionList xlated = p.TranslatedInstructions();
        Assert.True(xlated.Count >= 8, xlated.ToString()); // the kernel inlines array lookups, so no call remains
    }

    [Fact]
    public void Load_UninitializedRegister_ThrowsVerifierExceptionWithLogTail()
    {
        Requires.Root();
        var spec = new ProgramSpec
        {
            Name = "kscope_bad",
            Type = ProgramType.SocketFilter,
            Instructions = new InstructionList { Asm.Mov.Reg(R0, R5), Asm.Exit() },
        };
        var e = Assert.Throws<VerifierException>(() => Program.Load(spec));
        Assert.Equal(Kscope.Native.Errno.EACCES, e.Errno);
        Assert.Contains("R5 !read_ok", e.Message);
        Assert.StartsWith("load program 'kscope_bad': ", e.Message);
        Assert.Contains("R5 !read_ok", e.Tail());
    }

    [Fact]
    public void Load_LogLevelOne_KeepsVerifierLog()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = Program.Load(new ProgramSpec { Name = "kscope_log", Type = ProgramType.SocketFilter, Instructions = TestPrograms.Increment(counter) },
            new ProgramLoadOptions { LogLevel = 2, LogSize = 128 }); // tiny buffer: must grow on ENOSPC
        Assert.Contains("processed", p.VerifierLog);
    }

    [Fact]
    public void Load_UnresolvedMapReference_IsRejectedBeforeTheKernel()
    {
        var spec = new ProgramSpec
        {
            Name = "kscope_ref",
            Type = ProgramType.SocketFilter,
            Instructions = new InstructionList { Asm.LoadMapPtr(R1, "events"), Asm.Mov.Imm(R0, 0), Asm.Exit() },
        };
        var e = Assert.Throws<InvalidOperationException>(() => Program.Load(spec));
        Assert.Contains("'events'", e.Message);
    }

    [Fact]
    public void Pin_ThenFromPin_SameProgram()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.SocketFilter, counter, "kscope_pinp");
        string path = $"/sys/fs/bpf/kscope_test_{Environment.ProcessId}_prog";
        p.Pin(path);
        try
        {
            using Program again = Program.FromPin(path);
            Assert.Equal(p.Id, again.Id);
            Assert.Equal("kscope_pinp", again.Name);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
