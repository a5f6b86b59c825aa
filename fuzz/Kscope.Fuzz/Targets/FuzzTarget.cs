using Kscope.Formats;

namespace Kscope.Fuzz;

/// <summary>
/// Runs one fuzz input through a parser. Returns the length of the bytes the parser itself consumed (the
/// input, or what a gzip layer inflated it to), which sets the allocation bound.
/// </summary>
public delegate long FuzzAction(ReadOnlySpan<byte> input);

/// <summary>
/// One parser of outside bytes under the fuzzer. The contract every input must keep (checked by
/// <see cref="Run"/>, identically under AFL++ and in the xunit replay of fuzz/regressions/):
/// the parser returns or throws <see cref="MalformedDataException"/> (or one of the target's other typed
/// rejections); it allocates at most <see cref="AllocationBound"/>; it writes at most the same bound of output.
/// Hangs (more than 1 s for one input) are AFL++'s to see (-t 1000).
/// </summary>
public sealed record FuzzTarget(string Name, string Layer, string Description, FuzzAction Action, Type[]? AlsoAccepted = null)
{
    /// <summary>The stated bound: 4 bytes per parsed byte plus 64 MiB (allocated on this thread, all input).</summary>
    public static long AllocationBound(long parsedLength) => (4 * parsedLength) + (64L << 20);

    /// <summary>Runs the input; throws <see cref="FuzzContractException"/> (or lets the parser's own bug escape) when the contract breaks.</summary>
    public void Run(ReadOnlySpan<byte> input)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        long parsed = input.Length;
        try
        {
            parsed = Action(input);
        }
        catch (MalformedDataException)
        {
            // The typed rejection: fine.
        }
        catch (Exception e) when (AlsoAccepted is not null && AlsoAccepted.Any(t => t.IsInstanceOfType(e)))
        {
            // This target's other documented rejection (e.g. the loader's NotSupportedException for __ksym externs).
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long bound = AllocationBound(Math.Max(parsed, input.Length));
        if (allocated > bound)
        {
            throw new FuzzContractException($"{Name}: allocated {allocated} bytes for a {input.Length}-byte input (parsed {parsed}); the bound is {bound}");
        }
    }
}

/// <summary>A fuzz input broke the contract without an exception of the parser's own (allocation or output bound).</summary>
public sealed class FuzzContractException(string message) : Exception(message);

/// <summary>A write-only stream that counts, and fails past a bound (a writer emitting gigabytes is a finding).</summary>
public sealed class BoundedSink(long bound) : Stream
{
    public long Written { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Written;
    public override long Position { get => Written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Written += buffer.Length;
        if (Written > bound)
        {
            throw new FuzzContractException($"output passed its bound of {bound} bytes");
        }
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
