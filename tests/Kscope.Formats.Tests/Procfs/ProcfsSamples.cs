namespace Kscope.Formats.Tests.Procfs;

/// <summary>Text captured from a Linux 6.18 x86_64 host (hybrid cgroups) for the parser tests.</summary>
internal static class ProcfsSamples
{
    public const string Status =
        "Name:\tcat\nUmask:\t0022\nState:\tR (running)\nTgid:\t6950\nNgid:\t0\nPid:\t6950\nPPid:\t6946\nTracerPid:\t0\n" +
        "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t256\nGroups:\t \nVmPeak:\t    3060 kB\nVmSize:\t    3060 kB\n" +
        "VmHWM:\t    1724 kB\nVmRSS:\t    1724 kB\nThreads:\t1\nSigQ:\t0/96343\nCapInh:\t0000000000000000\n" +
        "CapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n" +
        "NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed_list:\t0\n" +
        "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t1\n";

    public const string Stat =
        "7730 (cat) R 7726 7726 4156 0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 44358 3133440 406 18446744073709551615 " +
        "94215099768832 94215099788713 140729901893328 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94215099804720 94215099806336 " +
        "94215282323456 140729901898036 140729901898056 140729901898056 140729901899755 0\n";

    public const string Cgroup =
        "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n4:memory:/process_api/678e3ad6\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/kscope test\n0::/\n";

    public const string MountInfo =
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n" +
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n" +
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" +
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime shared:4 master:1 - cgroup cgroup rw,name=systemd\n" +
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n" +
        "50 27 0:40 /sub\\040dir /mnt/with\\040space\\134x rw - tmpfs my\\011src rw\n";

    public const string Maps =
        "564c1b05c000-564c1b05e000 r--p 00000000 fe:00 247629                     /usr/bin/head\n" +
        "564c1b05e000-564c1b064000 r-xp 00002000 fe:00 247629                     /usr/bin/head\n" +
        "564c1c000000-564c1c021000 rw-p 00000000 00:00 0                          [heap]\n" +
        "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n" +
        "7f0000001000-7f0000002000 r--p 00000000 fe:00 12                         /tmp/a file (deleted)\n" +
        "7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0                          [stack]\n";

    public const string Limits =
        "Limit                     Soft Limit           Hard Limit           Units     \n" +
        "Max cpu time              unlimited            unlimited            seconds   \n" +
        "Max stack size            8388608              unlimited            bytes     \n" +
        "Max open files            20000                20000                files     \n" +
        "Max locked memory         8388608              8388608              bytes     \n" +
        "Max nice priority         0                    0                    \n";

    public const string Config =
        "#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_CC_VERSION_TEXT=\"gcc (Debian 12.2.0-14) 12.2.0\"\n" +
        "CONFIG_BPF_SYSCALL=y\nCONFIG_BPF_JIT=y\n# CONFIG_KPROBES is not set\nCONFIG_NR_CPUS=64\nCONFIG_EXT4_FS=m\n\n";

    public const string CpuStatV1 = "nr_periods 120\nnr_throttled 96\nthrottled_time 3912345678\nnr_bursts 0\nburst_time 0\n";

    public const string CpuStatV2 =
        "usage_usec 272559886\nuser_usec 240594862\nsystem_usec 31965024\nnice_usec 0\ncore_sched.force_idle_usec 0\n" +
        "nr_periods 50\nnr_throttled 10\nthrottled_usec 123456\nnr_bursts 0\nburst_usec 0\n";

    public const string Pressure = "some avg10=41.34 avg60=16.56 avg300=12.63 total=66539864\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
}
