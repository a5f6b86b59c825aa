using Kscope.Kernel.Btf;

namespace Kscope.Kernel.Tests.Kvm;

public class KvmMirrorVerifierTests
{
    [Fact]
    public void Verify_WrongKvmMirrors_AreCaught()
    {
        if (!VmlinuxBtf.IsAvailable)
        {
            Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
        }
        var verifier = new KernelStructVerifier(VmlinuxBtf.Get());
        IReadOnlyList<KernelStructMismatch> all = verifier.VerifyAssembly(typeof(KvmMirrorVerifierTests).Assembly.Location, out _);
        string Of(string type) => string.Join('\n', all.Where(m => m.TypeName.EndsWith("." + type, StringComparison.Ordinal)));

        Assert.Contains("IoPort (kvm_run): offset 40, kernel 'io.port' is at 34", Of(nameof(WrongKvmRunUnionOffset)));
        Assert.Contains("has no member 'immediate_exit'", Of(nameof(WrongKvmRunImmediateExitName)));
        string segment = Of(nameof(WrongKvmSegmentOrder));
        Assert.Contains("Db (kvm_segment): offset 16, kernel 'db' is at 17", segment);
        Assert.Contains("Dpl (kvm_segment): offset 17, kernel 'dpl' is at 16", segment);
        Assert.Contains("size 28, kernel 40", Of(nameof(WrongKvmCpuidEntry2Size)));
    }
}
