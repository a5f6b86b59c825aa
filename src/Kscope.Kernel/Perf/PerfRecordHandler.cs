using Kscope.Native;
using Kscope.Native.Perf;

namespace Kscope.Kernel.Perf;

/// <summary>
/// Receives one perf ring record. <paramref name="body"/> (the bytes after the 8-byte header) points into
/// the ring, or into a scratch copy when the record wraps; it is valid only during the call.
/// </summary>
public delegate void PerfRecordHandler(PerfEventHeader header, ReadOnlySpan<byte> body);
