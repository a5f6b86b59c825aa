using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Loader;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// Runs gadgets on kscope's own eBPF stack (Kscope.Kernel.Bpf): parse the embedded object, set the
/// filter's .rodata, load (CO-RE against the running kernel), fill the pid set, attach every program
/// by section name (optional hooks may be missing), read ring buffer `events`.
/// </summary>
public sealed class BpfGadgetRuntime : IGadgetRuntime
{
    public IGadgetInstance Start(Gadget gadget, byte[] elfObject, TraceFilter filter, IReadOnlyDictionary<string, object> rodata)
    {
        Memlock.RaiseOnce();
        CollectionSpec spec = CollectionSpec.Parse(elfObject, gadget.Object ?? gadget.Name);
        if (gadget.Object is null)
        {
            throw new ArgumentException($"gadget '{gadget.Name}' has no eBPF object", nameof(gadget));
        }
        foreach ((string name, object value) in rodata)
        {
            if (spec.Variables.ContainsKey(name))
            {
                spec.SetVariable(name, Bytes(value));
            }
        }
        if (gadget.EventsBytes is uint size && spec.Maps.TryGetValue("events", out MapSpec? events) && events.Type == MapType.RingBuf)
        {
            spec.Maps["events"] = events with { MaxEntries = size };
        }
        Collection collection = Collection.Load(spec);
        var instance = new Instance(collection);
        try
        {
            foreach (int pid in filter.Pids)
            {
                instance.AddPid(pid);
            }
            foreach ((string name, Kscope.Kernel.Bpf.Program program) in collection.Programs)
            {
                ProgramSpec p = spec.Programs[name];
                bool optional = gadget.Optional.Any(o => (p.SectionName ?? "").EndsWith(o, StringComparison.Ordinal));
                try
                {
                    instance.Links.Add(Collection.AttachBySection(program, p));
                }
                catch (Kscope.Native.KernelException) when (optional || IsOptionalFilterHook(p.SectionName))
                {
                    // an optional hook this kernel lacks (e.g. openat2 before 5.6)
                }
            }
            return instance;
        }
        catch
        {
            instance.Dispose();
            throw;
        }
    }

    /// <summary>filter.h's cgroup_attach_task hook serves only v1 --cgroup; a kernel without the tracepoint still traces the rest.</summary>
    private static bool IsOptionalFilterHook(string? section) => section == "raw_tracepoint/cgroup_attach_task";

    private static byte[] Bytes(object value) => value switch
    {
        byte b => [b],
        uint u => BitConverter.GetBytes(u),
        int i => BitConverter.GetBytes(i),
        ulong ul => BitConverter.GetBytes(ul),
        byte[] a => a,
        _ => throw new ArgumentException($"unsupported .rodata value type {value.GetType().Name}", nameof(value)),
    };

    private sealed class Instance(Collection collection) : IGadgetInstance
    {
        private RingBufReader? _reader;

        public List<Link> Links { get; } = [];

        public ulong Lost
        {
            get
            {
                if (!collection.Maps.TryGetValue("lost", out Map? map))
                {
                    return 0;
                }
                ulong[]? perCpu = map.LookupPerCpu<uint, ulong>(0);
                return perCpu is null ? 0 : perCpu.Aggregate(0UL, (a, b) => a + b);
            }
        }

        public IReadOnlyList<ReadOnlyMemory<byte>> Drain()
        {
            var records = new List<ReadOnlyMemory<byte>>(_leftover.Select(r => (ReadOnlyMemory<byte>)r));
            _leftover.Clear();
            if (collection.Maps.TryGetValue("events", out Map? map))
            {
                _reader ??= new RingBufReader(map);
                _reader.Read((_, data) => records.Add(data.ToArray()));
            }
            return records;
        }

        private readonly List<byte[]> _leftover = [];

        /// <summary>
        /// A dedicated thread drains the ring buffer into a bounded queue that the caller consumes: no
        /// thread-pool hop per wake-up, and reading goes on while the caller formats. When the caller
        /// falls behind, the queue fills, the thread stops reading, and the kernel counts what it cannot
        /// store as lost (the queue never grows without bound).
        /// </summary>
        public async IAsyncEnumerable<ReadOnlyMemory<byte>> Events([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            if (!collection.Maps.TryGetValue("events", out Map? map))
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                yield break;
            }
            RingBufReader reader = _reader ??= new RingBufReader(map);
            Channel<byte[]> queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(QueueCapacity)
            {
                SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait,
            });
            var unqueued = new List<byte[]>();
            using var threadStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var thread = new Thread(() => Produce(reader, queue.Writer, unqueued, threadStop.Token)) { IsBackground = true, Name = "kscope ring buffer" };
            thread.Start();
            try
            {
                while (true)
                {
                    // a flood never empties the queue: without this check the stop would wait for a quiet moment
                    while (!cancellationToken.IsCancellationRequested && queue.Reader.TryRead(out byte[]? record))
                    {
                        yield return record;
                    }
                    if (cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
                    if (!await WaitToRead(queue.Reader, cancellationToken).ConfigureAwait(false))
                    {
                        break;
                    }
                }
            }
            finally
            {
                await threadStop.CancelAsync().ConfigureAwait(false); // also when the caller stops early (an exception)
                thread.Join(); // the registration wakes its Wait
                while (queue.Reader.TryRead(out byte[]? record))
                {
                    _leftover.Add(record); // handed out by Drain, in order, before what is still in the ring
                }
                _leftover.AddRange(unqueued);
            }
        }

        private const int QueueCapacity = 1 << 15;

        private static async ValueTask<bool> WaitToRead(ChannelReader<byte[]> reader, CancellationToken cancellationToken)
        {
            try
            {
                return await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        private static void Produce(RingBufReader reader, ChannelWriter<byte[]> writer, List<byte[]> unqueued, CancellationToken cancellationToken)
        {
            using CancellationTokenRegistration registration = cancellationToken.Register(reader.Cancel);
            var batch = new List<byte[]>();
            int queued = 0;
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    reader.Read((_, data) => batch.Add(data.ToArray()), max: 4096);
                    for (; queued < batch.Count; queued++)
                    {
                        while (!writer.TryWrite(batch[queued]))
                        {
                            if (!writer.WaitToWriteAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
                            {
                                return;
                            }
                        }
                    }
                    batch.Clear();
                    queued = 0;
                    if (reader.Pending == 0)
                    {
                        reader.Wait(250);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                unqueued.AddRange(batch.Skip(queued)); // read but not queued when stopped: Drain hands them out
                writer.TryComplete();
            }
        }

        public void AddPid(int pid, bool pendingExec = false) =>
            collection.Maps["pids"].Update<uint, byte>((uint)pid, pendingExec ? PidPendingExec : PidTraced);

        private const byte PidTraced = 1, PidPendingExec = 2; // filter.h

        public void Detach()
        {
            Link.DisposeAll(Links); // in parallel: each perf-event link waits for RCU grace periods in the kernel
            Links.Clear();
        }

        public IEnumerable<(byte[] Key, byte[] Value)> MapEntries(string map) =>
            collection.Maps[map].Entries().Select(e => (e.Key, e.Value)).ToList();

        public IReadOnlyList<ulong> Stack(string map, int id)
        {
            Map m = collection.Maps[map];
            byte[] value = new byte[m.ValueSize];
            if (!m.Lookup(BitConverter.GetBytes(id), value))
            {
                return [];
            }
            var frames = new List<ulong>();
            for (int i = 0; i + 8 <= value.Length; i += 8)
            {
                ulong ip = BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(i));
                if (ip == 0)
                {
                    break;
                }
                frames.Add(ip);
            }
            return frames;
        }

        public void Dispose()
        {
            Detach();
            _reader?.Dispose();
            collection.Dispose();
        }
    }
}
