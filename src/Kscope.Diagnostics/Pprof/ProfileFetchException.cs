namespace Kscope.Diagnostics.Pprof;

/// <summary>A profile could not be fetched from a /debug/pprof endpoint (connection, HTTP status, timeout).</summary>
public sealed class ProfileFetchException(string message, Exception? inner = null) : IOException(message, inner);
