using Kscope.Diagnostics.Trace;

namespace Kscope.Diagnostics.Tests.Trace;

/// <summary>Container ids in cgroup paths as Docker, containerd, CRI-O, podman and Kubernetes write them.</summary>
public sealed class ContainerIdsTests
{
    private const string Id = "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7";

    [Theory]
    [InlineData("/docker/" + Id)]                                                                      // docker, cgroupfs driver (v1)
    [InlineData("/system.slice/docker-" + Id + ".scope")]                                             // docker, systemd driver
    [InlineData("/kubepods/burstable/pod6b3e1c55-2f4a-4c1e-9d7b-1e2f3a4b5c6d/" + Id)]                 // kubelet cgroupfs + containerd
    [InlineData("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod6b3e1c55_2f4a_4c1e_9d7b_1e2f3a4b5c6d.slice/cri-containerd-" + Id + ".scope")]
    [InlineData("/kubepods.slice/kubepods-pod1.slice/crio-" + Id + ".scope")]                          // CRI-O
    [InlineData("/machine.slice/libpod-" + Id + ".scope/container")]                                   // podman, systemd inside
    [InlineData("/docker/" + Id + "/init.scope")]                                                      // systemd in a docker container
    public void In_RuntimeLayouts_FindTheId(string path) => Assert.Equal(Id, ContainerIds.In(path));

    [Theory]
    [InlineData("/")]
    [InlineData("/system.slice/docker.service")]
    [InlineData("/user.slice/user-1000.slice/session-2.scope")]
    [InlineData("/kubepods/burstable/pod6b3e1c55-2f4a-4c1e-9d7b-1e2f3a4b5c6d")]
    [InlineData("/docker/" + "3f2a9c1d8e7b")]                                 // a short id is not how runtimes name cgroups
    [InlineData("/x/notahex-zzzz" + "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d")] // 63 hex digits
    [InlineData("/x/a" + Id + ".scope")]                                       // digits glued to a name: not a runtime's separator
    public void In_NoContainer_IsNull(string path) => Assert.Null(ContainerIds.In(path));

    [Theory]
    [InlineData(Id, Id)]
    [InlineData("3F2A9C1D8E7B", "3f2a9c1d8e7b")]
    [InlineData("containerd://" + Id, Id)]
    [InlineData("docker://3f2a9c1d8e7b", "3f2a9c1d8e7b")]
    [InlineData(" 3f2a9c1d8e7b\n", "3f2a9c1d8e7b")]
    public void Normalize_IdsAsUsersCopyThem_HexDigits(string given, string expected) => Assert.Equal(expected, ContainerIds.Normalize(given));

    [Theory]
    [InlineData("myapp")]
    [InlineData("docker-3f2a9c1d8e7b.scope")]
    [InlineData("")]
    [InlineData(Id + "0")]
    public void Normalize_NotAnId_IsNull(string given) => Assert.Null(ContainerIds.Normalize(given));
}
