using System.Collections;

namespace Kscope.Kernel.Bpf.Asm;

/// <summary>
/// A program's instructions with symbolic labels. <see cref="Link"/> resolves label references of jumps,
/// bpf-to-bpf calls and function-address loads into relative slot offsets (LD_IMM64 counts two slots);
/// references to maps stay for the loader, which knows the fds.
/// </summary>
public sealed class InstructionList : IList<Instruction>, IReadOnlyList<Instruction>
{
    private readonly List<Instruction> _items;

    public InstructionList() => _items = new List<Instruction>();

    public InstructionList(IEnumerable<Instruction> instructions) => _items = new List<Instruction>(instructions);

    public int Count => _items.Count;

    public bool IsReadOnly => false;

    public Instruction this[int index]
    {
        get => _items[index];
        set => _items[index] = value;
    }

    /// <summary>Total slots (8-byte units) the program takes when encoded.</summary>
    public int SlotCount
    {
        get
        {
            int n = 0;
            foreach (Instruction i in _items)
            {
                n += i.Slots;
            }
            return n;
        }
    }

    public void Add(Instruction item) => _items.Add(item);

    public void AddRange(IEnumerable<Instruction> items) => _items.AddRange(items);

    /// <summary>Marks the next instruction added as <paramref name="label"/> (the builder form: <c>list.Label("out"); list.Add(Asm.Exit())</c>).</summary>
    public InstructionList Label(string label)
    {
        _pendingLabel = label;
        return this;
    }

    private string? _pendingLabel;

    /// <summary>Adds instructions; a pending <see cref="Label"/> names the first of them.</summary>
    public InstructionList Emit(params Instruction[] instructions)
    {
        foreach (Instruction i in instructions)
        {
            _items.Add(_pendingLabel is null ? i : i.WithSymbol(_pendingLabel));
            _pendingLabel = null;
        }
        return this;
    }

    /// <summary>Slot index of every instruction (index i -> slot).</summary>
    public int[] SlotOffsets()
    {
        var offsets = new int[_items.Count];
        int slot = 0;
        for (int i = 0; i < _items.Count; i++)
        {
            offsets[i] = slot;
            slot += _items[i].Slots;
        }
        return offsets;
    }

    /// <summary>Symbol -> instruction index.</summary>
    public Dictionary<string, int> Symbols()
    {
        var symbols = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _items.Count; i++)
        {
            if (_items[i].Symbol is { } s && !symbols.TryAdd(s, i))
            {
                throw new AssemblyException($"symbol '{s}' defined twice (instructions {symbols[s]} and {i})");
            }
        }
        return symbols;
    }

    /// <summary>
    /// Resolves jump, call and function-address references to the symbols in this list, in place.
    /// Throws <see cref="AssemblyException"/> for a missing label or an offset out of range.
    /// </summary>
    public InstructionList Link()
    {
        Dictionary<string, int> symbols = Symbols();
        int[] slots = SlotOffsets();
        for (int i = 0; i < _items.Count; i++)
        {
            Instruction ins = _items[i];
            if (ins.Reference is not { } target)
            {
                continue;
            }
            bool branch = ins.IsBranch;
            bool call = ins.IsFunctionCall || ins.IsLoadFunction;
            if (!branch && !call)
            {
                continue; // map and kernel references: resolved by the loader
            }
            if (!symbols.TryGetValue(target, out int targetIndex))
            {
                throw new AssemblyException($"instruction {i} ({Disassembler.Format(ins)}) refers to unknown {(branch ? "label" : "function")} '{target}'");
            }
            long delta = slots[targetIndex] - (slots[i] + 1);
            if (call || (ins.Class == InstructionClass.Jmp32 && OpCode.JumpOf(ins.OpCode) == JumpOperation.Ja))
            {
                _items[i] = ins with { Constant = delta };
            }
            else
            {
                if (delta is < short.MinValue or > short.MaxValue)
                {
                    throw new AssemblyException($"jump from instruction {i} to '{target}' is out of range ({delta} slots)");
                }
                _items[i] = ins with { Offset = (short)delta };
            }
        }
        return this;
    }

    /// <summary>Encodes every instruction (call <see cref="Link"/> first).</summary>
    public byte[] Encode()
    {
        var bytes = new byte[SlotCount * Instruction.SlotSize];
        int at = 0;
        foreach (Instruction i in _items)
        {
            at += i.Encode(bytes.AsSpan(at));
        }
        return bytes;
    }

    /// <summary>Decodes raw bytecode (a multiple of 8 bytes).</summary>
    public static InstructionList Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % Instruction.SlotSize != 0)
        {
            throw new Formats.MalformedDataException("bpf", bytes.Length - (bytes.Length % Instruction.SlotSize), $"bytecode length {bytes.Length} is not a multiple of 8");
        }
        var list = new InstructionList();
        int at = 0;
        while (at < bytes.Length)
        {
            if (bytes[at] == OpCode.LdImm64 && bytes.Length - at < 2 * Instruction.SlotSize)
            {
                throw new Formats.MalformedDataException("bpf", at, "LD_IMM64 in the last slot: its second half is missing");
            }
            at += Instruction.Decode(bytes[at..], out Instruction ins) * Instruction.SlotSize;
            list.Add(ins);
        }
        return list;
    }

    public int IndexOf(Instruction item) => _items.IndexOf(item);

    public void Insert(int index, Instruction item) => _items.Insert(index, item);

    public void RemoveAt(int index) => _items.RemoveAt(index);

    public void Clear() => _items.Clear();

    public bool Contains(Instruction item) => _items.Contains(item);

    public void CopyTo(Instruction[] array, int arrayIndex) => _items.CopyTo(array, arrayIndex);

    public bool Remove(Instruction item) => _items.Remove(item);

    public IEnumerator<Instruction> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => Disassembler.Format(this);
}
