using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Cli.Tests.Cli;

namespace Kscope.Cli.Tests.Diagnose;

/// <summary>
/// `kscope diagnose --pid` on running processes with several threads that, asked during the window, do what goes
/// wrong in production: a child killed by the OOM killer in the process's memory cgroup (oom_kill), connects to a
/// port nothing listens on (tcp_errors). The oracles are the kernel's and the process's own counts: the child's
/// SIGKILL seen by its parent's waitpid and, on cgroup v2, memory.events oom_kill; the ECONNREFUSED the process
/// counted itself.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class DiagnoseEventsTests
{
    [Fact]
    public void DiagnosePid_ChildOomKilledInItsMemoryCgroup_OomKillFindingNamesTheVictim()
    {
        Requires.Root();
        string python = Requires.Tool("python3", "python3");
        using TempCgroup cg = TempCgroup.Create("memory");
        cg.Write(cg.V2 ? "memory.max" : "memory.limit_in_bytes", (48 << 20).ToString(CultureInfo.InvariantCulture));
        if (cg.V2)
        {
            cg.Write("memory.swap.max", "0");
        }
        // three threads idle; on a line from the test, a forked child allocates until the kernel kills it, and the
        // parent prints the child's pid and the signal that ended it
        const string Script = "import os,sys,threading,time\n[threading.Thread(target=time.sleep, args=(600,), daemon=True).start() for _ in range(3)]\n" +
            "print('ready', flush=True)\nsys.stdin.readline()\npid=os.fork()\n" +
            "if pid == 0:\n  a=[]\n  while True: a.append(bytearray(1<<20))\n" +
            "_,st=os.waitpid(pid,0)\nprint(pid, os.WTERMSIG(st) if os.WIFSIGNALED(st) else -1, flush=True)\ntime.sleep(600)\n";
        using Process p = DiagnoseProbe.StartReady($"echo $$ > {cg.Dir}/cgroup.procs && exec {python} -c \"$0\"", Script);
        try
        {
            long before = OomKills(cg);
            using var dir = new TempDirectory("kscope-diag-");
            using KscopeProcess k = DiagnoseProbe.StartWindow(p.Id, dir);
            p.StandardInput.WriteLine("go");
            string[] child = p.StandardOutput.ReadLine()!.Split(' ');
            int code = k.WaitForExit(TimeSpan.FromMinutes(2));
            long counted = OomKills(cg) - before;
            string detail = $"exit {code}; child {child[0]} ended by signal {child[1]}; the cgroup counted {counted} oom kills\nstdout: {k.Out}\nstderr: {k.Err}";
            Assert.True(child[1] == "9", detail); // SIGKILL: the OOM killer
            using JsonDocument doc = JsonDocument.Parse(k.Out);
            Assert.True(DiagnoseProbe.SourceStarted(doc, "oom"), detail);
            JsonElement finding = DiagnoseProbe.Find(doc, "oom_kill", detail);
            JsonElement e = finding.GetProperty("evidence");
            Assert.Equal("critical", finding.GetProperty("severity").GetString());
            Assert.True(e.GetProperty("kills_seen_by_gadget").GetInt64() == 1, detail);
            Assert.True(e.GetProperty("victims").GetString() == $"{child[0]}:python3", detail);
            if (cg.V2)
            {
                Assert.True(counted == 1 && e.GetProperty("oom_kill_counted_by_cgroup").GetInt64() == 1, detail); // the kernel's own count
                Assert.Equal(48L << 20, e.GetProperty("memory_max_bytes").GetInt64());
            }
            if (KernelAtLeast(6, 2)) // oom:mark_victim carries the victim's memory from 6.2 on
            {
                Assert.True(e.GetProperty("largest_anon_rss_kb").GetInt64() > 24 << 10, detail);
            }
            Assert.Equal(ExitCodes.Failures, code);
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
    }

    [Fact]
    public void DiagnosePid_ConnectsToAClosedPort_TcpErrorsAsManyAsTheProcessCounted()
    {
        Requires.Root();
        string python = Requires.Tool("python3", "python3");
        // three threads idle; on a line "N" the main thread connects N times to a loopback port nothing listens on
        // (bound, then closed), and prints the port and how many connects it saw refused
        const string Script = "import errno,socket,sys,threading,time\n[threading.Thread(target=time.sleep, args=(600,), daemon=True).start() for _ in range(3)]\n" +
            "r=socket.socket(); r.bind(('127.0.0.1',0)); port=r.getsockname()[1]; r.close()\nprint('ready', flush=True)\n" +
            "n=int(sys.stdin.readline()); refused=0\nfor _ in range(n):\n  s=socket.socket()\n" +
            "  try: s.connect(('127.0.0.1',port))\n  except ConnectionRefusedError: refused+=1\n  finally: s.close()\n" +
            "print(port, refused, flush=True)\ntime.sleep(600)\n";
        using Process p = DiagnoseProbe.StartReady($"exec {python} -c \"$0\"", Script);
        try
        {
            using var dir = new TempDirectory("kscope-diag-");
            using KscopeProcess k = DiagnoseProbe.StartWindow(p.Id, dir);
            p.StandardInput.WriteLine("25");
            string[] answer = p.StandardOutput.ReadLine()!.Split(' ');
            (string port, long refused) = (answer[0], long.Parse(answer[1], CultureInfo.InvariantCulture));
            int code = k.WaitForExit(TimeSpan.FromMinutes(2));
            string detail = $"exit {code}; the process saw {refused} of 25 connects to port {port} refused\nstdout: {k.Out}\nstderr: {k.Err}";
            Assert.True(refused == 25, detail);
            using JsonDocument doc = JsonDocument.Parse(k.Out);
            JsonElement finding = DiagnoseProbe.Find(doc, "tcp_errors", detail);
            JsonElement e = finding.GetProperty("evidence");
            Assert.True(e.GetProperty("connect_errors").GetInt64() == refused, detail);
            Assert.Equal($"ECONNREFUSED:{refused}", e.GetProperty("connect_errors_by_errno").GetString());
            Assert.Equal($"127.0.0.1:{port} {refused}", e.GetProperty("top_failed_peers").GetString());
            Assert.True(doc.RootElement.GetProperty("drops").GetProperty("gadget_records_lost").GetInt64() == 0, detail);
            Assert.Equal("warning", finding.GetProperty("severity").GetString());
            Assert.Contains("ECONNREFUSED", finding.GetProperty("advice").GetString(), StringComparison.Ordinal);
            Assert.True(code is ExitCodes.Warnings or ExitCodes.Failures, detail);
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
    }

    [Fact]
    public void DiagnosePid_ChildrenKilledBySegfaultAndByTheTest_ProcessKilledNamesSignalsAndSender()
    {
        Requires.Root();
        string python = Requires.Tool("python3", "python3");
        // three threads idle; on a line from the test: one child dereferences NULL (no core dump), the parent prints
        // how it ended; a second child sleeps until the test kills it with SIGKILL, and the parent prints that too
        const string Script = "import ctypes,os,resource,sys,threading,time\n[threading.Thread(target=time.sleep, args=(600,), daemon=True).start() for _ in range(3)]\n" +
            "print('ready', flush=True)\nsys.stdin.readline()\n" +
            "a=os.fork()\nif a == 0:\n  resource.setrlimit(resource.RLIMIT_CORE,(0,0)); ctypes.string_at(0)\n" +
            "_,st=os.waitpid(a,0)\nprint(a, os.WTERMSIG(st) if os.WIFSIGNALED(st) else -1, flush=True)\n" +
            "b=os.fork()\nif b == 0:\n  time.sleep(600)\nprint(b, flush=True)\n" +
            "_,st=os.waitpid(b,0)\nprint(b, os.WTERMSIG(st) if os.WIFSIGNALED(st) else -1, flush=True)\ntime.sleep(600)\n";
        using Process p = DiagnoseProbe.StartReady($"exec {python} -c \"$0\"", Script);
        try
        {
            using var dir = new TempDirectory("kscope-diag-");
            using KscopeProcess k = DiagnoseProbe.StartWindow(p.Id, dir);
            p.StandardInput.WriteLine("go");
            string[] segv = p.StandardOutput.ReadLine()!.Split(' ');
            int sleeper = int.Parse(p.StandardOutput.ReadLine()!, CultureInfo.InvariantCulture);
            Process.GetProcessById(sleeper).Kill(); // kill(2) with SIGKILL, from this test process
            string[] killed = p.StandardOutput.ReadLine()!.Split(' ');
            int code = k.WaitForExit(TimeSpan.FromMinutes(2));
            string detail = $"exit {code}; child {segv[0]} ended by signal {segv[1]}, child {killed[0]} by {killed[1]}; the test is pid {Environment.ProcessId}\nstdout: {k.Out}\nstderr: {k.Err}";
            Assert.True(segv[1] == "11" && killed[1] == "9", detail); // the parent's waitpid: SIGSEGV, SIGKILL
            using JsonDocument doc = JsonDocument.Parse(k.Out);
            JsonElement finding = DiagnoseProbe.Find(doc, "process_killed", detail);
            JsonElement e = finding.GetProperty("evidence");
            Assert.Equal("critical", finding.GetProperty("severity").GetString());
            Assert.True(e.GetProperty("killed").GetString() == $"{segv[0]}:SIGSEGV {sleeper}:SIGKILL", detail);
            string senders = e.GetProperty("senders").GetString()!;
            Assert.True(senders.StartsWith("itself (a fault); pid " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + " (", StringComparison.Ordinal), detail);
            Assert.Equal(ExitCodes.Failures, code);
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
    }

    /// <summary>memory.events oom_kill of a v2 cgroup (0 on v1, which does not count kills per cgroup).</summary>
    private static long OomKills(TempCgroup cg) => !cg.V2 ? 0 :
        File.ReadLines(Path.Combine(cg.Dir, "memory.events")).Select(l => l.Split(' ')).Where(f => f[0] == "oom_kill")
            .Select(f => long.Parse(f[1], CultureInfo.InvariantCulture)).FirstOrDefault();

    private static bool KernelAtLeast(int major, int minor)
    {
        string[] v = File.ReadAllText("/proc/sys/kernel/osrelease").Split('.', '-');
        (int ma, int mi) = (int.Parse(v[0], CultureInfo.InvariantCulture), int.Parse(v[1], CultureInfo.InvariantCulture));
        return ma > major || (ma == major && mi >= minor);
    }
}
