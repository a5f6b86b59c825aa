using System.Text.Json;
using Kscope.Formats.Btf;
using Kscope.Kernel.Bpf;
using BtfTypes = Kscope.Formats.Btf.Btf;
using Kscope.Kernel.Bpf.Loader;

namespace Kscope.Diagnostics.Bpf;

/// <summary>
/// <c>kscope bpf run</c>: load an object, attach every program by section name, print ring buffer and perf
/// buffer records (decoded with a BTF struct, else hex) until the duration ends or Ctrl-C, then print
/// the hash/array maps and global data decoded with their BTF types.
/// </summary>
public sealed class BpfRun
{
    private readonly TextWriter _out;
    private readonly bool _json;

    /// <param name="output">Where records and maps go.</param>
    /// <param name="json">JSON lines (one object per record or map entry; schema in docs/bpf.md) instead of text.</param>
    public BpfRun(TextWriter output, bool json)
    {
        _out = output;
        _json = json;
    }

    private void JsonLine(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("schema", Schema);
            write(w);
            w.WriteEndObject();
        }
        _out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    /// <summary>The schema of every <c>bpf run --json</c> line (docs/json.md).</summary>
    public const string Schema = "kscope.bpf.run/v1";

    public sealed record Options(string ObjectPath, IReadOnlySet<string>? Programs, string? RecordType, TimeSpan? Duration);

    public async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        CollectionSpec spec = CollectionSpec.LoadObject(options.ObjectPath);
        if (options.Programs is { } wanted)
        {
            foreach (string p in wanted.Where(p => !spec.Programs.ContainsKey(p)))
            {
                throw new KeyNotFoundException($"object has no program '{p}' (it has: {string.Join(", ", spec.Programs.Keys)})");
            }
        }
        BtfTypes? btf = spec.Btf;
        int recordType = 0;
        if (options.RecordType is { } rt)
        {
            recordType = btf?.FindComposite(rt.StartsWith("struct ", StringComparison.Ordinal) ? rt[7..] : rt)?.Id
                ?? throw new KeyNotFoundException($"the object's BTF has no struct '{rt}' for --record");
        }
        if (spec.Origin is not null)
        {
            Info($"object {spec.Origin}");
        }
        using Collection c = Collection.Load(spec, new CollectionOptions { Programs = options.Programs });
        var rings = c.Maps.Values.Where(m => m.Type == MapType.RingBuf).Select(m => (m.Name, Reader: new RingBufReader(m))).ToList();
        var perfs = c.Maps.Values.Where(m => m.Type == MapType.PerfEventArray).Select(m => (m.Name, Reader: new PerfBufReader(m))).ToList();
        try
        {
            IReadOnlyList<Link> links = c.AttachAll();
            ReportAttachments(c);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (options.Duration is { } d)
            {
                stop.CancelAfter(d);
            }
            long records = 0;
            void Handle(string map, int cpu, ReadOnlySpan<byte> data)
            {
                records++;
                string text = recordType != 0 ? BtfValueFormatter.Format(btf!, recordType, data) : BtfValueFormatter.Hex(data);
                if (_json)
                {
                    JsonLine(w =>
                    {
                        w.WriteString("kind", "record");
                        w.WriteString("map", map);
                        if (cpu >= 0)
                        {
                            w.WriteNumber("cpu", cpu);
                        }
                        w.WriteString("value", text);
                    });
                }
                else
                {
                    _out.WriteLine(cpu >= 0 ? $"{map} cpu{cpu}: {text}" : $"{map}: {text}");
                }
            }
            while (!stop.IsCancellationRequested)
            {
                int got = 0;
                foreach ((string name, RingBufReader r) in rings)
                {
                    got += r.Read((cpu, data) => Handle(name, cpu, data));
                }
                foreach ((string name, PerfBufReader r) in perfs)
                {
                    got += r.Read((cpu, data) => Handle(name, cpu, data));
                }
                if (got == 0)
                {
                    try
                    {
                        await Task.Delay(rings.Count + perfs.Count == 0 ? 200 : 20, stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }
            foreach (Link l in c.Links)
            {
                l.Dispose();
            }
            foreach ((string name, RingBufReader r) in rings)
            {
                r.Read((cpu, data) => Handle(name, cpu, data));
                Info($"ring buffer {name}: {r.Delivered} delivered, {r.Discarded} discarded");
            }
            foreach ((string name, PerfBufReader r) in perfs)
            {
                r.Read((cpu, data) => Handle(name, cpu, data));
                Info($"perf buffer {name}: {r.Delivered} delivered, {r.Lost} lost");
            }
            DumpMaps(c, spec, btf);
            return cancellationToken.IsCancellationRequested ? 130 : 0;
        }
        finally
        {
            rings.ForEach(r => r.Reader.Dispose());
            perfs.ForEach(r => r.Reader.Dispose());
        }
    }

    /// <summary>What is attached where, and what was loaded but not attached and why (text: '#' lines; JSON: attached/not_attached lines).</summary>
    private void ReportAttachments(Collection c)
    {
        int attached = c.Links.Count;
        if (_json)
        {
            // AttachAll walks Programs in order and adds one link per program it attaches.
            int i = 0;
            foreach (string name in c.Programs.Keys.Where(n => !c.NotAttached.Any(x => x.Program == n)))
            {
                if (i < c.Links.Count)
                {
                    Link link = c.Links[i++];
                    JsonLine(w =>
                    {
                        w.WriteString("kind", "attached");
                        w.WriteString("program", name);
                        w.WriteString("section", c.Spec.Programs[name].SectionName);
                        w.WriteString("link", link.Description);
                    });
                }
            }
            foreach ((string program, string reason) in c.NotAttached)
            {
                JsonLine(w =>
                {
                    w.WriteString("kind", "not_attached");
                    w.WriteString("program", program);
                    w.WriteString("section", c.Spec.Programs[program].SectionName);
                    w.WriteString("reason", reason);
                });
            }
            return;
        }
        Info($"attached {attached} program(s){(attached > 0 ? ": " + string.Join(", ", c.Links.Select(l => l.Description)) : "")}");
        foreach ((string program, string reason) in c.NotAttached)
        {
            Info($"loaded, not attached: {program}: {reason}");
        }
    }

    private void DumpMaps(Collection c, CollectionSpec objectSpec, BtfTypes? btf)
    {
        foreach ((string name, Map map) in c.Maps)
        {
            MapSpec? spec = map.Spec;
            if (map.Type is not (MapType.Hash or MapType.Array or MapType.LruHash or MapType.PerCpuHash or MapType.PerCpuArray or MapType.LruPerCpuHash))
            {
                continue;
            }
            bool global = spec?.Section is { } s && s.StartsWith('.') && s != ".maps";
            if (global && spec!.Section!.StartsWith(".rodata", StringComparison.Ordinal))
            {
                continue; // constants: the user set them
            }
            foreach (var kv in map.Entries().Take(1000))
            {
                string key = spec is { BtfKeyTypeId: > 0 } && btf is not null ? BtfValueFormatter.Format(btf, (int)spec.BtfKeyTypeId, kv.Key) : BtfValueFormatter.Hex(kv.Key);
                string value = global && btf is not null && FormatGlobals(objectSpec, btf, name, kv.Value) is { } globals ? globals
                    : spec is { BtfValueTypeId: > 0 } && btf is not null ? BtfValueFormatter.Format(btf, (int)spec.BtfValueTypeId, kv.Value) : BtfValueFormatter.Hex(kv.Value);
                if (_json)
                {
                    JsonLine(w =>
                    {
                        w.WriteString("kind", global ? "global" : "map");
                        w.WriteString("map", name);
                        if (!global)
                        {
                            w.WriteString("key", key);
                        }
                        w.WriteString("value", value);
                    });
                }
                else
                {
                    _out.WriteLine(global ? $"{spec!.Section}: {value}" : $"{name}[{key}] = {value}");
                }
            }
        }
    }

    /// <summary>
    /// A global data section's variables, each at its own offset: <c>a=1, b=2</c>. The object's DATASEC
    /// carries offset 0 for every variable (clang leaves them for the loader to fill in from the ELF
    /// symbols), so the offsets come from the symbols (<see cref="CollectionSpec.Variables"/>), not the BTF.
    /// Null when the section has no typed variable.
    /// </summary>
    private static string? FormatGlobals(CollectionSpec objectSpec, BtfTypes btf, string mapName, ReadOnlySpan<byte> value)
    {
        var variables = objectSpec.Variables.Values.Where(v => v.MapName == mapName && v.BtfTypeId > 0).OrderBy(v => v.Offset).ThenBy(v => v.Name, StringComparer.Ordinal).ToList();
        if (variables.Count == 0)
        {
            return null;
        }
        var sb = new System.Text.StringBuilder();
        foreach (VariableSpec v in variables)
        {
            if (sb.Length > 0)
            {
                sb.Append(", ");
            }
            sb.Append(v.Name).Append('=');
            sb.Append(v.Offset + v.Size <= value.Length
                ? BtfValueFormatter.Format(btf, v.BtfTypeId, value.Slice((int)v.Offset, (int)v.Size))
                : "?");
        }
        return sb.ToString();
    }

    private void Info(string text)
    {
        if (!_json)
        {
            _out.WriteLine($"# {text}");
        }
    }
}
