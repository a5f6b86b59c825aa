namespace Kscope.Diagnostics.Kvm;

/// <summary>One self-test of <c>kscope kvm check</c>: passed, or the exact failure (ioctl and errno, or the exit seen).</summary>
public sealed record KvmSelfTest(string Name, bool Passed, string Detail, TimeSpan Elapsed);

/// <summary>A capability and KVM_CHECK_EXTENSION's answer (0 = absent).</summary>
public sealed record KvmCapabilityValue(string Name, int Number, int Value);

/// <summary>What <c>kscope kvm check</c> found. <see cref="Error"/> is set when /dev/kvm could not be used at all.</summary>
public sealed record KvmCheckReport(
    bool Usable,
    string? Error,
    string Backend,
    bool Nested,
    int ApiVersion,
    int VcpuMmapSize,
    int CpuidLeaves,
    IReadOnlyList<KvmCapabilityValue> Capabilities,
    IReadOnlyList<KvmSelfTest> SelfTests)
{
    public bool AllPassed => Usable && SelfTests.Count > 0 && SelfTests.All(t => t.Passed);
}
