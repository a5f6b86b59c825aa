using System.Buffers.Binary;
using Kscope.Formats.Elf;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Loader;
using Kscope.Kernel.Perf;

namespace Kscope.Fuzz;

/// <summary>Targets for the parsers in Kscope.Kernel (no syscalls on these paths). Also compiled into Kscope.Kernel.Tests.</summary>
public static class KernelTargets
{
    public const string Layer = "Kernel";

    public static IEnumerable<FuzzTarget> All =>
    [
        // NotSupportedException: the loader's documented "kscope does not resolve __ksym externs" rejection.
        new("bpf-object", Layer, "the ELF -> CollectionSpec loader path (bpf load/run/objdump before any syscall)", BpfObject, [typeof(NotSupportedException)]),
        new("perf-records", Layer, "perf ring records: input = u64 sample_type, then perf_event_header records (SAMPLE, MMAP2, COMM, FORK, EXIT, LOST, THROTTLE)", PerfRecordStream),
    ];

    private static long BpfObject(ReadOnlySpan<byte> input)
    {
        CollectionSpec spec = CollectionSpec.Parse(input.ToArray(), "fuzz");
        foreach (ProgramSpec p in spec.Programs.Values)
        {
            _ = p.Instructions.Count;
        }
        _ = spec.Maps.Count;
        return input.Length;
    }

    private static long PerfRecordStream(ReadOnlySpan<byte> input)
    {
        if (input.Length < 8)
        {
            return input.Length;
        }
        // The kernel never sees a sample_type kscope did not ask for; READ is not one it asks for.
        ulong sampleType = BinaryPrimitives.ReadUInt64LittleEndian(input) & ~PerfRecords.SampleRead;
        ReadOnlySpan<byte> rest = input[8..];
        // Walk records as PerfRing does: a header size below 8 or past the data drops the rest.
        while (rest.Length >= 8)
        {
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(rest);
            ushort misc = BinaryPrimitives.ReadUInt16LittleEndian(rest[4..]);
            ushort size = BinaryPrimitives.ReadUInt16LittleEndian(rest[6..]);
            if (size < 8 || size > rest.Length)
            {
                break;
            }
            ReadOnlySpan<byte> body = rest[8..size];
            switch ((PerfRecordType)type)
            {
                case PerfRecordType.Sample: _ = PerfRecords.DecodeSample(body, sampleType); break;
                case PerfRecordType.Mmap2: _ = PerfRecords.DecodeMmap2(misc, body, sampleType); break;
                case PerfRecordType.Comm: _ = PerfRecords.DecodeComm(misc, body, sampleType); break;
                case PerfRecordType.Fork or PerfRecordType.Exit: _ = PerfRecords.DecodeTask((PerfRecordType)type, body); break;
                case PerfRecordType.Lost: _ = PerfRecords.DecodeLost(body); break;
                case PerfRecordType.Throttle or PerfRecordType.Unthrottle: _ = PerfRecords.DecodeThrottle((PerfRecordType)type, body); break;
                default: _ = PerfRecords.SampleIdTime(body, sampleType); break;
            }
            rest = rest[size..];
        }
        return input.Length;
    }
}
