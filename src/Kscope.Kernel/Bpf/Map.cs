using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kscope.Kernel.Bpf;

// Inside the namespace so 'Bpf' binds to the gateway class Kscope.Native.Bpf.Bpf, not this namespace.
using Kscope.Native;
using Kscope.Native.Bpf;

/// <summary>
/// A BPF map owned by this process (its fd closes on Dispose). Byte-level operations take spans of the
/// map's key and value sizes; the generic overloads take unmanaged structs of exactly those sizes.
/// Per-CPU maps (PerCpuHash, PerCpuArray, LruPerCpuHash) carry one value per possible CPU, each
/// padded to 8 bytes (<see cref="PerCpuValueStride"/>). Lookup/Delete/NextKey return false for a
/// missing key instead of throwing.
/// </summary>
public sealed unsafe class Map : IDisposable
{
    private Map(SafeFd fd, string name, MapType type, uint keySize, uint valueSize, uint maxEntries, uint flags)
    {
        Fd = fd;
        Name = name;
        Type = type;
        KeySize = keySize;
        ValueSize = valueSize;
        MaxEntries = maxEntries;
        Flags = flags;
    }

    public SafeFd Fd { get; }

    public string Name { get; }

    public MapType Type { get; }

    public uint KeySize { get; }

    public uint ValueSize { get; }

    public uint MaxEntries { get; }

    public uint Flags { get; }

    /// <summary>The spec this map was created from, when created by kscope.</summary>
    public MapSpec? Spec { get; private init; }

    public bool IsPerCpu => Type is MapType.PerCpuHash or MapType.PerCpuArray or MapType.LruPerCpuHash or MapType.PerCpuCgroupStorage;

    /// <summary>Bytes per CPU in a per-CPU value buffer (value size rounded up to 8).</summary>
    public int PerCpuValueStride => (int)((ValueSize + 7) & ~7u);

    /// <summary>Size of the buffer a lookup writes: <see cref="ValueSize"/>, or stride × possible CPUs for per-CPU maps.</summary>
    public int ValueBufferSize => IsPerCpu ? PerCpuValueStride * PossibleCpus.Count : (int)ValueSize;

    /// <summary>BPF_MAP_CREATE from a spec; writes its contents and freezes it when the spec says so.</summary>
    public static Map Create(MapSpec spec, SafeFd? btf = null, Map? innerMap = null)
    {
        Memlock.RaiseOnce();
        var attr = new MapCreateAttr
        {
            MapType = (uint)spec.Type,
            KeySize = spec.KeySize,
            ValueSize = spec.ValueSize,
            MaxEntries = spec.MaxEntries,
            MapFlags = spec.Flags,
            InnerMapFd = innerMap is null ? 0 : (uint)innerMap.Fd.Value,
        };
        attr.SetName(spec.Name);
        if (btf is not null && spec.BtfValueTypeId != 0)
        {
            attr.BtfFd = (uint)btf.Value;
            attr.BtfKeyTypeId = spec.BtfKeyTypeId;
            attr.BtfValueTypeId = spec.BtfValueTypeId;
        }
        SafeFd fd;
        try
        {
            try
            {
                fd = Bpf.MapCreate(ref attr);
            }
            catch (KernelException e) when (btf is not null && spec.BtfValueTypeId != 0 && e.Errno is Errno.EINVAL or Errno.ENOTSUPP)
            {
                // Some map types reject BTF key/value types (e.g. older kernels for ringbuf): retry without.
                attr.BtfFd = attr.BtfKeyTypeId = attr.BtfValueTypeId = 0;
                fd = Bpf.MapCreate(ref attr);
            }
        }
        catch (KernelException e)
        {
            throw new KernelException($"create map '{spec.Name}' ({spec.Type}, key {spec.KeySize} B, value {spec.ValueSize} B, {spec.MaxEntries} entries, flags 0x{spec.Flags:x})", e.Errno, e.Hint, e);
        }
        var map = new Map(fd, spec.Name, spec.Type, spec.KeySize, spec.ValueSize, spec.MaxEntries, spec.Flags) { Spec = spec };
        try
        {
            if (spec.Contents is { } contents)
            {
                foreach (KeyValuePair<byte[], byte[]> kv in contents)
                {
                    map.Update(kv.Key, kv.Value);
                }
            }
            if (spec.Freeze)
            {
                map.Freeze();
            }
            return map;
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>Opens a map pinned on bpffs.</summary>
    public static Map FromPin(string path)
    {
        byte[] p = Utf8Z(path);
        fixed (byte* pp = p)
        {
            var attr = new ObjPinAttr { Pathname = (ulong)pp };
            SafeFd fd = Bpf.ObjGet(ref attr);
            return FromFd(fd);
        }
    }

    /// <summary>Opens a map by its kernel id (as listed by `bpftool map`).</summary>
    public static Map FromId(uint id)
    {
        var attr = new GetIdAttr { StartId = id };
        return FromFd(Bpf.MapGetFdById(ref attr));
    }

    /// <summary>Wraps an fd (takes ownership), reading type and sizes from the kernel.</summary>
    /// <remarks>The fd is owned from the call on: closed when it is not a map or its info cannot be read.</remarks>
    public static Map FromFd(SafeFd fd)
    {
        try
        {
            BpfObjectKind.Require(fd, BpfObjectKind.Map, "open map");
            BpfMapInfo info = GetInfo(fd);
            return new Map(fd, ObjectName.Read(new ReadOnlySpan<byte>(info.Name, 16)), (MapType)info.Type, info.KeySize, info.ValueSize, info.MaxEntries, info.MapFlags);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>BPF_OBJ_GET_INFO_BY_FD.</summary>
    public BpfMapInfo Info() => GetInfo(Fd);

    /// <summary>The kernel's id of this map.</summary>
    public uint Id => Info().Id;

    /// <summary>Ids of every map loaded in the kernel.</summary>
    public static IEnumerable<uint> AllIds()
    {
        var attr = new GetIdAttr();
        while (Bpf.MapGetNextId(ref attr) == Errno.None)
        {
            yield return attr.NextId;
            attr.StartId = attr.NextId;
        }
    }

    /// <summary>Reads the value of <paramref name="key"/> into <paramref name="value"/> (<see cref="ValueBufferSize"/> bytes); false when absent.</summary>
    public bool Lookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key);
        CheckValue(value, ValueBufferSize);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var attr = new MapElemAttr { MapFd = (uint)Fd.Value, Key = (ulong)k, Value = (ulong)v };
            return Result(Bpf.MapLookupElem(ref attr), "lookup");
        }
    }

    /// <summary>Writes a value (<see cref="ValueBufferSize"/> bytes; per-CPU maps take every CPU's value).</summary>
    public void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        CheckKey(key);
        CheckValue(value, ValueBufferSize);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var attr = new MapElemAttr { MapFd = (uint)Fd.Value, Key = (ulong)k, Value = (ulong)v, Flags = (ulong)flags };
            Errno errno = Bpf.MapUpdateElem(ref attr);
            if (errno != Errno.None)
            {
                throw Error("update", errno);
            }
        }
    }

    /// <summary>Deletes a key; false when it was absent.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        fixed (byte* k = key)
        {
            var attr = new MapElemAttr { MapFd = (uint)Fd.Value, Key = (ulong)k };
            return Result(Bpf.MapDeleteElem(ref attr), "delete");
        }
    }

    /// <summary>Pops a value from a queue or stack map (key empty) or looks up and deletes a hash entry; false when none.</summary>
    public bool LookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value)
    {
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var attr = new MapElemAttr { MapFd = (uint)Fd.Value, Key = key.IsEmpty ? 0 : (ulong)k, Value = (ulong)v };
            return Result(Bpf.MapLookupAndDeleteElem(ref attr), "lookup and delete");
        }
    }

    /// <summary>The key after <paramref name="key"/> (or the first key when <paramref name="key"/> is empty); false at the end.</summary>
    public bool NextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        CheckValue(nextKey, (int)KeySize);
        fixed (byte* k = key)
        fixed (byte* n = nextKey)
        {
            var attr = new MapElemAttr { MapFd = (uint)Fd.Value, Key = key.IsEmpty ? 0 : (ulong)k, NextKey = (ulong)n };
            return Result(Bpf.MapGetNextKey(ref attr), "get next key");
        }
    }

    /// <summary>Every key, in the kernel's order (a snapshot taken while iterating).</summary>
    public IEnumerable<byte[]> Keys()
    {
        byte[] key = [];
        while (true)
        {
            var next = new byte[KeySize];
            if (!NextKey(key, next))
            {
                yield break;
            }
            yield return next;
            key = next;
        }
    }

    /// <summary>Every (key, value) pair; entries deleted during the walk are skipped.</summary>
    public IEnumerable<KeyValuePair<byte[], byte[]>> Entries()
    {
        foreach (byte[] key in Keys())
        {
            var value = new byte[ValueBufferSize];
            if (Lookup(key, value))
            {
                yield return new KeyValuePair<byte[], byte[]>(key, value);
            }
        }
    }

    /// <summary>
    /// BPF_MAP_LOOKUP_BATCH: reads up to keys.Length / KeySize entries after <paramref name="cursor"/>
    /// (empty on the first call; then pass the previous call's <paramref name="nextCursor"/>). Returns
    /// how many were read; <paramref name="done"/> is true after the last batch.
    /// </summary>
    public int LookupBatch(ReadOnlySpan<byte> cursor, Span<byte> nextCursor, Span<byte> keys, Span<byte> values, out bool done, bool delete = false)
    {
        int capacity = keys.Length / (int)KeySize;
        if (values.Length < capacity * ValueBufferSize)
        {
            throw new ArgumentException($"values buffer holds fewer than {capacity} values of {ValueBufferSize} bytes", nameof(values));
        }
        fixed (byte* c = cursor)
        fixed (byte* n = nextCursor)
        fixed (byte* k = keys)
        fixed (byte* v = values)
        {
            var attr = new MapBatchAttr
            {
                InBatch = cursor.IsEmpty ? 0 : (ulong)c,
                OutBatch = (ulong)n,
                Keys = (ulong)k,
                Values = (ulong)v,
                Count = (uint)capacity,
                MapFd = (uint)Fd.Value,
            };
            Errno errno = delete ? Bpf.MapLookupAndDeleteBatch(ref attr) : Bpf.MapLookupBatch(ref attr);
            done = errno == Errno.ENOENT;
            if (errno is not (Errno.None or Errno.ENOENT))
            {
                throw Error(delete ? "lookup and delete batch" : "lookup batch", errno);
            }
            return (int)attr.Count;
        }
    }

    /// <summary>BPF_MAP_UPDATE_BATCH of count = keys.Length / KeySize entries.</summary>
    public int UpdateBatch(ReadOnlySpan<byte> keys, ReadOnlySpan<byte> values, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        int count = keys.Length / (int)KeySize;
        CheckValue(values, count * ValueBufferSize);
        fixed (byte* k = keys)
        fixed (byte* v = values)
        {
            var attr = new MapBatchAttr { Keys = (ulong)k, Values = (ulong)v, Count = (uint)count, MapFd = (uint)Fd.Value, ElemFlags = (ulong)flags };
            Errno errno = Bpf.MapUpdateBatch(ref attr);
            return errno == Errno.None ? (int)attr.Count : throw Error("update batch", errno);
        }
    }

    /// <summary>BPF_MAP_DELETE_BATCH; returns how many were deleted.</summary>
    public int DeleteBatch(ReadOnlySpan<byte> keys)
    {
        int count = keys.Length / (int)KeySize;
        fixed (byte* k = keys)
        {
            var attr = new MapBatchAttr { Keys = (ulong)k, Count = (uint)count, MapFd = (uint)Fd.Value };
            Errno errno = Bpf.MapDeleteBatch(ref attr);
            return errno is Errno.None or Errno.ENOENT ? (int)attr.Count : throw Error("delete batch", errno);
        }
    }

    /// <summary>BPF_MAP_FREEZE: no more writes from user space.</summary>
    public void Freeze()
    {
        var attr = new MapElemAttr { MapFd = (uint)Fd.Value };
        try
        {
            Bpf.MapFreeze(ref attr);
        }
        catch (KernelException e)
        {
            throw new KernelException($"freeze map '{Name}'", e.Errno, e.Hint, e);
        }
    }

    /// <summary>Pins the map on bpffs (mounting /sys/fs/bpf when needed).</summary>
    public void Pin(string path) => Pinning.Pin(Fd, path, $"pin map '{Name}'");

    // ---- typed API over unmanaged key/value structs ----

    public bool Lookup<TKey, TValue>(TKey key, out TValue value) where TKey : unmanaged where TValue : unmanaged
    {
        CheckTypes<TKey, TValue>();
        value = default;
        return Lookup(Bytes(ref key), MemoryMarshal.AsBytes(new Span<TValue>(ref value)));
    }

    public TValue? Lookup<TKey, TValue>(TKey key) where TKey : unmanaged where TValue : unmanaged =>
        Lookup(key, out TValue value) ? value : null;

    public void Update<TKey, TValue>(TKey key, TValue value, MapUpdateFlags flags = MapUpdateFlags.Any) where TKey : unmanaged where TValue : unmanaged
    {
        CheckTypes<TKey, TValue>();
        Update(Bytes(ref key), MemoryMarshal.AsBytes(new Span<TValue>(ref value)), flags);
    }

    public bool Delete<TKey>(TKey key) where TKey : unmanaged => Delete(Bytes(ref key));

    /// <summary>Every CPU's value of a per-CPU map, indexed by CPU id.</summary>
    public TValue[]? LookupPerCpu<TKey, TValue>(TKey key) where TKey : unmanaged where TValue : unmanaged
    {
        if (!IsPerCpu || sizeof(TValue) != ValueSize)
        {
            throw new InvalidOperationException($"map '{Name}' is {Type} with {ValueSize}-byte values, not per-CPU {typeof(TValue).Name}");
        }
        var buffer = new byte[ValueBufferSize];
        if (!Lookup(Bytes(ref key), buffer))
        {
            return null;
        }
        var values = new TValue[PossibleCpus.Count];
        for (int cpu = 0; cpu < values.Length; cpu++)
        {
            values[cpu] = MemoryMarshal.Read<TValue>(buffer.AsSpan(cpu * PerCpuValueStride));
        }
        return values;
    }

    /// <summary>Writes the same value on every CPU of a per-CPU map.</summary>
    public void UpdatePerCpu<TKey, TValue>(TKey key, ReadOnlySpan<TValue> perCpu) where TKey : unmanaged where TValue : unmanaged
    {
        var buffer = new byte[ValueBufferSize];
        for (int cpu = 0; cpu < perCpu.Length && cpu < PossibleCpus.Count; cpu++)
        {
            TValue v = perCpu[cpu];
            MemoryMarshal.Write(buffer.AsSpan(cpu * PerCpuValueStride), in v);
        }
        Update(Bytes(ref key), buffer);
    }

    /// <summary>Every entry, typed.</summary>
    public IEnumerable<KeyValuePair<TKey, TValue>> Entries<TKey, TValue>() where TKey : unmanaged where TValue : unmanaged
    {
        CheckTypes<TKey, TValue>();
        foreach (KeyValuePair<byte[], byte[]> kv in Entries())
        {
            yield return new KeyValuePair<TKey, TValue>(MemoryMarshal.Read<TKey>(kv.Key), MemoryMarshal.Read<TValue>(kv.Value));
        }
    }

    public void Dispose() => Fd.Dispose();

    public override string ToString() => $"map '{Name}' ({Type}, key {KeySize}, value {ValueSize}, max {MaxEntries})";

    internal static BpfMapInfo GetInfo(SafeFd fd)
    {
        BpfMapInfo info = default;
        var attr = new ObjGetInfoByFdAttr { BpfFd = (uint)fd.Value, InfoLen = (uint)sizeof(BpfMapInfo), Info = (ulong)&info };
        Bpf.ObjGetInfoByFd(ref attr);
        return info;
    }

    internal static byte[] Utf8Z(string s)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(s) + 1];
        System.Text.Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    private static ReadOnlySpan<byte> Bytes<T>(ref T value) where T : unmanaged =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(ref value));

    private void CheckTypes<TKey, TValue>() where TKey : unmanaged where TValue : unmanaged
    {
        if (sizeof(TKey) != KeySize || sizeof(TValue) != ValueBufferSize)
        {
            throw new ArgumentException($"map '{Name}' has {KeySize}-byte keys and {ValueBufferSize}-byte values; {typeof(TKey).Name} is {sizeof(TKey)} and {typeof(TValue).Name} is {sizeof(TValue)}");
        }
    }

    private void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"map '{Name}' has {KeySize}-byte keys, got {key.Length}", nameof(key));
        }
    }

    private void CheckValue(ReadOnlySpan<byte> value, int size)
    {
        if (value.Length < size)
        {
            throw new ArgumentException($"map '{Name}' needs a {size}-byte value buffer, got {value.Length}", nameof(value));
        }
    }

    private bool Result(Errno errno, string what) => errno switch
    {
        Errno.None => true,
        Errno.ENOENT => false,
        _ => throw Error(what, errno),
    };

    private KernelException Error(string what, Errno errno) =>
        KernelException.FromErrno($"{what} in map '{Name}'", errno, errno == Errno.E2BIG ? $"the map is full ({MaxEntries} entries)" : null);
}
