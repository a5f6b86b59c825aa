namespace Kscope.TestKit;

/// <summary>
/// Where the tests run: on the host, or in a tests/kernels QEMU guest (tests/kernels/guest sets
/// KSCOPE_IN_KMATRIX=1), whose CPUs QEMU emulates in software (TCG), some 15 times slower than the host's.
/// </summary>
public static class Guest
{
    /// <summary>True in a tests/kernels guest: CPU-bound rates (sampling frequencies, floods) must fit an emulated CPU.</summary>
    public static bool Emulated { get; } = Environment.GetEnvironmentVariable("KSCOPE_IN_KMATRIX") == "1";
}
