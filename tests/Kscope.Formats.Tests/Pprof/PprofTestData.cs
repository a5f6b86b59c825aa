namespace Kscope.Formats.Tests.Pprof;

/// <summary>Real profiles from github.com/google/pprof's testdata (see ../shared/testdata/pprof/COMMIT).</summary>
internal static class PprofTestData
{
    public static string Dir => Path.Combine(Tools.SharedTestData, "pprof");

    /// <summary>A 240 s Go CPU profile, 1.2 MB gzipped (internal/proftest/testdata/large.cpu).</summary>
    public static string Large => Path.Combine(Dir, "internal", "proftest", "testdata", "large.cpu");

    /// <summary>A small C++ CPU profile without sample_type (internal/driver/testdata/cppbench.cpu_no_samples_type).</summary>
    public static string CppBench => Path.Combine(Dir, "internal", "driver", "testdata", "cppbench.cpu_no_samples_type");
}
