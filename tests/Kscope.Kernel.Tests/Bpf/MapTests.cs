using System.Runtime.InteropServices;
using Kscope.Kernel.Bpf;

namespace Kscope.Kernel.Tests.Bpf;

[Trait("Category", "Kernel")]
public class MapTests
{
    [Theory]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.LruHash)]
    [InlineData(MapType.Array)]
    public void Crud_EachType_WorksAndIterates(MapType type)
    {
        Requires.Root();
        using Map map = Map.Create(new MapSpec { Name = "kscope_crud", Type = type, KeySize = 4, ValueSize = 8, MaxEntries = 16 });
        for (uint k = 0; k < 10; k++)
        {
            map.Update(k, (ulong)k * 100);
        }
        Assert.Equal(500UL, map.Lookup<uint, ulong>(5));
        map.Update(5u, 7UL, MapUpdateFlags.Exist);
        Assert.Equal(7UL, map.Lookup<uint, ulong>(5));
        if (type == MapType.Array)
        {
            Assert.Equal(16, map.Keys().Count());
            Assert.Throws<Kscope.Native.KernelException>(() => map.Delete(3u)); // arrays cannot delete (EINVAL)
        }
        else
        {
            Assert.Throws<Kscope.Native.KernelException>(() => map.Update(5u, 1UL, MapUpdateFlags.NoExist));
            Assert.True(map.Delete(3u));
            Assert.False(map.Delete(3u));
            Assert.Null(map.Lookup<uint, ulong>(3));
            Assert.Equal(9, map.Keys().Count());
            Assert.Equal(Enumerable.Range(0, 10).Where(i => i != 3).Select(i => (uint)i).Order(), map.Entries<uint, ulong>().Select(e => e.Key).Order());
        }
    }

    [Theory]
    [InlineData(MapType.PerCpuHash)]
    [InlineData(MapType.PerCpuArray)]
    public void PerCpu_Values_OnePerPossibleCpu(MapType type)
    {
        Requires.Root();
        using Map map = Map.Create(new MapSpec { Name = "kscope_pcpu", Type = type, KeySize = 4, ValueSize = 4, MaxEntries = 4 });
        int cpus = PossibleCpus.Count;
        uint[] values = Enumerable.Range(1, cpus).Select(i => (uint)i * 11).ToArray();
        map.UpdatePerCpu(2u, (ReadOnlySpan<uint>)values);
        uint[]? read = map.LookupPerCpu<uint, uint>(2);
        Assert.Equal(values, read);
        Assert.Equal(8 * cpus, map.ValueBufferSize);
    }

    [Fact]
    public void Batch_LookupAndUpdate_RoundTrip()
    {
        Requires.Root();
        using Map map = Map.Create(new MapSpec { Name = "kscope_batch", Type = MapType.Hash, KeySize = 4, ValueSize = 4, MaxEntries = 128 });
        uint[] keys = Enumerable.Range(0, 100).Select(i => (uint)i).ToArray();
        uint[] values = keys.Select(k => k * 3).ToArray();
        Assert.Equal(100, map.UpdateBatch(MemoryMarshal.AsBytes(keys.AsSpan()), MemoryMarshal.AsBytes(values.AsSpan())));

        var seen = new Dictionary<uint, uint>();
        byte[] cursor = [];
        var next = new byte[4];
        var kbuf = new uint[32];
        var vbuf = new uint[32];
        bool done = false;
        while (!done)
        {
            int n = map.LookupBatch(cursor, next, MemoryMarshal.AsBytes(kbuf.AsSpan()), MemoryMarshal.AsBytes(vbuf.AsSpan()), out done);
            for (int i = 0; i < n; i++)
            {
                seen[kbuf[i]] = vbuf[i];
            }
            cursor = (byte[])next.Clone();
        }
        Assert.Equal(100, seen.Count);
        Assert.All(seen, kv => Assert.Equal(kv.Key * 3, kv.Value));
        Assert.Equal(50, map.DeleteBatch(MemoryMarshal.AsBytes(keys.AsSpan(0, 50))));
        Assert.Equal(50, map.Keys().Count());
    }

    [Theory]
    [InlineData(MapType.Array)]
    [InlineData(MapType.PerCpuArray)]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.PerCpuHash)]
    [InlineData(MapType.LruHash)]
    public void Batch_EveryBatchableType_RoundTripsAndHashesDrainWithLookupAndDelete(MapType type)
    {
        Requires.Root();
        const int count = 100;
        bool perCpu = type is MapType.PerCpuArray or MapType.PerCpuHash;
        bool array = type is MapType.Array or MapType.PerCpuArray;
        using Map map = Map.Create(new MapSpec { Name = "kscope_batch2", Type = type, KeySize = 4, ValueSize = 8, MaxEntries = array ? (uint)count : 128u });
        int stride = map.ValueBufferSize / 8; // u64 values per key: 1, or one per possible CPU
        ulong Expected(uint key, int slot) => key * 1000UL + (ulong)slot;
        uint[] keys = Enumerable.Range(0, count).Select(i => (uint)i).ToArray();
        ulong[] values = keys.SelectMany(k => Enumerable.Range(0, stride).Select(slot => Expected(k, slot))).ToArray();
        Assert.Equal(count, map.UpdateBatch(MemoryMarshal.AsBytes(keys.AsSpan()), MemoryMarshal.AsBytes(values.AsSpan())));

        foreach (bool delete in array ? [false] : new[] { false, true })
        {
            var seen = new Dictionary<uint, ulong[]>();
            byte[] cursor = [];
            var next = new byte[4];
            var kbuf = new uint[32];
            var vbuf = new ulong[32 * stride];
            bool done = false;
            while (!done)
            {
                int n = map.LookupBatch(cursor, next, MemoryMarshal.AsBytes(kbuf.AsSpan()), MemoryMarshal.AsBytes(vbuf.AsSpan()), out done, delete);
                for (int i = 0; i < n; i++)
                {
                    seen[kbuf[i]] = vbuf.AsSpan(i * stride, stride).ToArray();
                }
                cursor = (byte[])next.Clone();
            }
            Assert.Equal(count, seen.Count);
            Assert.All(seen, kv => Assert.Equal(Enumerable.Range(0, stride).Select(slot => Expected(kv.Key, slot)), kv.Value));
            Assert.Equal(perCpu ? PossibleCpus.Count : 1, stride); // one value per possible CPU, or one (a 1-CPU machine: both 1)
            Assert.Equal(delete ? 0 : count, map.Keys().Count());
        }
    }

    [Fact]
    public void Freeze_ThenUpdate_IsRefused()
    {
        Requires.Root();
        using Map map = Map.Create(new MapSpec
        {
            Name = "kscope_ro", Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1,
            Contents = [new(BitConverter.GetBytes(0u), BitConverter.GetBytes(42u))], Freeze = true,
        });
        Assert.Equal(42u, map.Lookup<uint, uint>(0));
        var e = Assert.Throws<Kscope.Native.KernelPermissionException>(() => map.Update(0u, 1u));
        Assert.Contains("update in map 'kscope_ro'", e.Message);
    }

    [Fact]
    public void Pin_ThenOpenByPathAndId_SeesSameMap()
    {
        Requires.Root();
        string path = $"/sys/fs/bpf/kscope_test_{Environment.ProcessId}_pin";
        using Map map = Map.Create(new MapSpec { Name = "kscope_pin", Type = MapType.Hash, KeySize = 4, ValueSize = 4, MaxEntries = 4 });
        map.Update(1u, 11u);
        map.Pin(path);
        try
        {
            using Map again = Map.FromPin(path);
            Assert.Equal(11u, again.Lookup<uint, uint>(1));
            Assert.Equal("kscope_pin", again.Name);
            Assert.Equal(MapType.Hash, again.Type);
            using Map byId = Map.FromId(map.Id);
            Assert.Equal(11u, byId.Lookup<uint, uint>(1));
            Assert.Contains(map.Id, Map.AllIds());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Create_StackTraceAndProgArrayAndQueue_Work()
    {
        Requires.Root();
        using Map stacks = Map.Create(new MapSpec { Name = "kscope_st", Type = MapType.StackTrace, KeySize = 4, ValueSize = 8 * 127, MaxEntries = 16 });
        using Map progs = Map.Create(new MapSpec { Name = "kscope_pa", Type = MapType.ProgArray, KeySize = 4, ValueSize = 4, MaxEntries = 4 });
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.SocketFilter, counter);
        progs.Update(0u, (uint)p.Fd.Value);
        Assert.Single(progs.Keys(), k => progs.Lookup(k, new byte[4]));
        using Map queue = Map.Create(new MapSpec { Name = "kscope_q", Type = MapType.Queue, ValueSize = 4, MaxEntries = 4 });
        queue.Update([], BitConverter.GetBytes(9u));
        var v = new byte[4];
        Assert.True(queue.LookupAndDelete([], v));
        Assert.Equal(9u, BitConverter.ToUInt32(v));
        Assert.False(queue.LookupAndDelete([], v));
    }

    [Fact]
    public void Typed_WrongSizes_Throw()
    {
        Requires.Root();
        using Map map = Map.Create(new MapSpec { Name = "kscope_ty", Type = MapType.Hash, KeySize = 4, ValueSize = 8, MaxEntries = 4 });
        Assert.Throws<ArgumentException>(() => map.Update(1UL, 1UL));
    }
}
