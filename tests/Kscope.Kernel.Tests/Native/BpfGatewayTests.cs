using System.Runtime.InteropServices;

namespace Kscope.Kernel.Tests.Native;

// Inside the namespace so that 'Bpf' binds to the gateway class Kscope.Native.Bpf.Bpf, not the Kscope.Kernel.Tests.Bpf namespace.
using Kscope.Native;
using Kscope.Native.Bpf;
using Kscope.Native.Perf;

[Trait("Category", "Kernel")]
public unsafe class BpfGatewayTests
{
    [Fact]
    public void MapCreate_ArrayMap_UpdateThenLookupRoundTrips()
    {
        Requires.Root();
        var create = new MapCreateAttr { MapType = 2 /* BPF_MAP_TYPE_ARRAY */, KeySize = 4, ValueSize = 8, MaxEntries = 4 };
        create.SetName("kscope_gw");
        using SafeFd map = Bpf.MapCreate(ref create);

        uint key = 3;
        ulong value = 0xdead_beef_cafe;
        var update = new MapElemAttr { MapFd = (uint)map.Value, Key = (ulong)&key, Value = (ulong)&value };
        Assert.Equal(Errno.None, Bpf.MapUpdateElem(ref update));

        ulong read = 0;
        var lookup = new MapElemAttr { MapFd = (uint)map.Value, Key = (ulong)&key, Value = (ulong)&read };
        Assert.Equal(Errno.None, Bpf.MapLookupElem(ref lookup));
        Assert.Equal(value, read);

        uint outside = 9;
        lookup.Key = (ulong)&outside;
        Assert.Equal(Errno.ENOENT, Bpf.MapLookupElem(ref lookup));
    }

    [Fact]
    public void MapCreate_BadType_ThrowsEINVALWithCommandName()
    {
        Requires.Root();
        var create = new MapCreateAttr { MapType = 9999, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
        var e = Assert.Throws<KernelException>(() => Bpf.MapCreate(ref create));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.StartsWith("bpf(BPF_MAP_CREATE): ", e.Message);
    }

    [Fact]
    public void ProgLoad_ReturnConstant_TestRunReturnsIt()
    {
        Requires.Root();
        // r0 = 42; exit  (BPF_ALU64|BPF_MOV|BPF_K = 0xb7, BPF_JMP|BPF_EXIT = 0x95)
        ulong* insns = stackalloc ulong[2];
        insns[0] = 0xb7 | (42UL << 32);
        insns[1] = 0x95;
        byte* license = stackalloc byte[4] { (byte)'G', (byte)'P', (byte)'L', 0 };
        var load = new ProgLoadAttr { ProgType = 1 /* SOCKET_FILTER */, InsnCnt = 2, Insns = (ulong)insns, License = (ulong)license };
        load.SetName("kscope_gw");
        using SafeFd prog = Bpf.ProgLoad(ref load);

        byte* packet = stackalloc byte[64];
        var run = new ProgTestRunAttr { ProgFd = (uint)prog.Value, DataIn = (ulong)packet, DataSizeIn = 64, Repeat = 1 };
        Bpf.ProgTestRun(ref run);
        Assert.Equal(42u, run.Retval);

        BpfProgInfo info = default;
        var get = new ObjGetInfoByFdAttr { BpfFd = (uint)prog.Value, InfoLen = (uint)sizeof(BpfProgInfo), Info = (ulong)&info };
        Bpf.ObjGetInfoByFd(ref get);
        Assert.Equal(1u, info.Type);
        Assert.Equal("kscope_gw", ObjectName.Read(new ReadOnlySpan<byte>(info.Name, 16)));
        Assert.Equal(16u, info.XlatedProgLen);
    }

    [Fact]
    public void ProgLoad_MissingExit_ThrowsEINVAL()
    {
        Requires.Root();
        ulong* insns = stackalloc ulong[1];
        insns[0] = 0xb7;
        byte* license = stackalloc byte[4] { (byte)'G', (byte)'P', (byte)'L', 0 };
        var load = new ProgLoadAttr { ProgType = 1, InsnCnt = 1, Insns = (ulong)insns, License = (ulong)license };
        var e = Assert.Throws<KernelException>(() => Bpf.ProgLoad(ref load));
        Assert.Equal(Errno.EINVAL, e.Errno);
    }

    [Fact]
    public void Structs_HaveKernelSizes()
    {
        Assert.Equal(136, sizeof(PerfEventAttr));
        Assert.Equal(12, RuntimeInformation.ProcessArchitecture == Architecture.X64 ? sizeof(EpollEvent) : 12);
        Assert.Equal(8, sizeof(PerfEventHeader));
        Assert.Equal(32, sizeof(MapElemAttr));
        Assert.Equal(144, sizeof(ProgLoadAttr));
    }
}
