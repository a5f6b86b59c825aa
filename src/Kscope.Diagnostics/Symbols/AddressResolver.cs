using Kscope.Diagnostics.Profiling;
using Kscope.Formats;
using Kscope.Formats.Procfs;

namespace Kscope.Diagnostics.Symbols;

/// <summary>
/// The one address -> frames resolver, used by the CPU profiler, trace stacks and
/// <c>kscope symbolize --pid</c>. Kernel addresses go to /proc/kallsyms; user addresses through
/// the process image (its executable mappings) to the binary (file offset -> ELF virtual address
/// -> Go pclntab or ELF symbols, binaries shared through <see cref="BinaryCache"/>), else to the
/// process's JIT perf map (/tmp/perf-PID.map). Frames are cached per (binary, virtual address),
/// whichever process the address was seen in.
/// </summary>
/// <remarks>
/// The one rule for return addresses: a caller frame's address (every frame of a stack but the
/// first) points after its call instruction, which may be the first byte of the next function
/// (a call that does not return, at a function's end). It is looked up one byte earlier, inside
/// the call, and the frames it gives are reported with the address itself (offsets from it). When
/// nothing covers that byte (padding between functions), the address is looked up as it is: the frame
/// under a signal frame holds the interrupted PC, not a return address, and may be a function's entry.
/// </remarks>
public sealed class AddressResolver
{
    /// <summary>Kernel addresses start here on x86-64 and arm64 (the upper half).</summary>
    public const ulong KernelStart = 0xffff_8000_0000_0000;

    private readonly Lazy<KernelSymbols> _kernel;
    private readonly Dictionary<int, PerfMap?> _perfMaps = [];
    private readonly Dictionary<(BinarySymbolizer Binary, ulong Address), IReadOnlyList<SymbolizedFrame>> _frames = [];

    public AddressResolver(BinaryCache? binaries = null, Func<KernelSymbols>? kernel = null)
    {
        Binaries = binaries ?? new BinaryCache();
        _kernel = new Lazy<KernelSymbols>(kernel ?? (() => KernelSymbols.LoadOrEmpty()));
    }

    public BinaryCache Binaries { get; }

    public KernelSymbols Kernel => _kernel.Value;

    /// <summary>
    /// Starts reading /proc/kallsyms on the thread pool (0.1-0.4 s of read and parse on this 2-CPU machine), so a
    /// report that names kernel frames at its end does not wait for it; the first <see cref="Kernel"/> waits for that read.
    /// </summary>
    public void PrefetchKernel()
    {
        if (!_kernel.IsValueCreated)
        {
            _ = Task.Run(() => _kernel.Value);
        }
    }

    public static bool IsKernelAddress(ulong address) => address >= KernelStart;

    /// <summary>Where to look a frame up: a return address one byte earlier (inside the call), a leaf as it is.</summary>
    public static ulong LookupAddress(ulong address, bool returnAddress) => returnAddress && address > 0 ? address - 1 : address;

    /// <summary>
    /// Frames of <paramref name="address"/> in <paramref name="image"/> (null: no mappings known),
    /// innermost first; <paramref name="returnAddress"/> for every stack frame but the first.
    /// </summary>
    public Resolution Resolve(ProcessImage? image, ulong address, bool returnAddress, bool kernel = false)
    {
        ulong lookup = LookupAddress(address, returnAddress);
        if (kernel || IsKernelAddress(address))
        {
            return _kernel.Value.Lookup(lookup) is { } name
                ? new Resolution([new SymbolizedFrame(address, name, null, 0, 0, false)], "[kernel]", null, 0, null)
                : new Resolution([], "[kernel]", null, 0, null);
        }
        int pid = image?.Pid ?? 0;
        if (image?.Find(lookup) is { } region)
        {
            ulong fileOffset = address - region.Start + region.Offset;
            if (Binaries.Get(pid, region.Path) is { } binary)
            {
                IReadOnlyList<SymbolizedFrame> frames = [];
                if (binary.Elf.TryGetVirtualAddress(lookup - region.Start + region.Offset, out ulong vaddr))
                {
                    // Frames name the runtime address; a return address's symbol offsets count from it, not from the lookup.
                    frames = FramesOf(binary, vaddr).Select(f => f with { Address = address, Offset = f.File is null ? f.Offset + (address - lookup) : f.Offset }).ToArray();
                }
                if (frames.Count == 0 && returnAddress && binary.Elf.TryGetVirtualAddress(fileOffset, out ulong exact))
                {
                    // not a return address after all: the resumed PC of a frame a signal interrupted (Go's
                    // asyncPreempt, a signal handler's caller) may be a function's first byte, whose byte before is padding
                    frames = FramesOf(binary, exact);
                }
                return new Resolution(frames, region.Path, region, fileOffset, binary);
            }
            if (PerfMapOf(pid)?.Lookup(lookup) is { } jit)
            {
                return new Resolution([new SymbolizedFrame(address, jit, null, 0, 0, false)], "[jit]", region, fileOffset, null);
            }
            return new Resolution([], region.Path, region, fileOffset, null);
        }
        if (pid > 0 && PerfMapOf(pid)?.Lookup(lookup) is { } named)
        {
            return new Resolution([new SymbolizedFrame(address, named, null, 0, 0, false)], "[jit]", null, 0, null);
        }
        return new Resolution([], null, null, 0, null);
    }

    /// <summary>Frames of a link-time address of <paramref name="binary"/>, cached; a damaged table gives none.</summary>
    public IReadOnlyList<SymbolizedFrame> FramesOf(BinarySymbolizer binary, ulong vaddr)
    {
        if (!_frames.TryGetValue((binary, vaddr), out IReadOnlyList<SymbolizedFrame>? frames))
        {
            try
            {
                frames = binary.Symbolize(vaddr);
            }
            catch (MalformedDataException)
            {
                frames = []; // a damaged symbol table or pclntab: the caller falls back to module+offset
            }
            _frames[(binary, vaddr)] = frames;
        }
        return frames;
    }

    private PerfMap? PerfMapOf(int pid)
    {
        if (!_perfMaps.TryGetValue(pid, out PerfMap? m))
        {
            m = PerfMap.Read(pid);
            _perfMaps[pid] = m;
        }
        return m;
    }
}

/// <summary>
/// What <see cref="AddressResolver.Resolve"/> found: frames (innermost first; empty when nothing names
/// the address), the module ("[kernel]", a mapped file's path, "[jit]", or null when unmapped), the
/// mapping and the file offset of the address in it, and the binary when one was read.
/// </summary>
public sealed record Resolution(IReadOnlyList<SymbolizedFrame> Frames, string? Module, ProcMapsEntry? Mapping, ulong FileOffset, BinarySymbolizer? Binary);
