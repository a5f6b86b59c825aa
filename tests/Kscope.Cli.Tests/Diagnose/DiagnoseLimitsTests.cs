using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Cli.Tests.Cli;

namespace Kscope.Cli.Tests.Diagnose;

/// <summary>
/// `kscope diagnose` on running processes near a kernel limit, each already running with several threads: one that
/// holds 250 of the 256 descriptors its RLIMIT_NOFILE allows (fd_exhaustion, critical), one whose pids cgroup is at
/// 17 of pids.max 20 (pids_exhaustion, warning). The oracle is the kernel's own count, read by the test around the
/// run: the entries of /proc/PID/fd, the cgroup's pids.current.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class DiagnoseLimitsTests
{
    [Fact]
    public void DiagnosePid_ProcessHoldingAlmostAllItsDescriptors_FdExhaustionAtTheKernelsCount()
    {
        Requires.Root();
        string python = Requires.Tool("python3", "python3");
        // three threads open and close a descriptor in a loop (the count moves by up to 3); the main thread holds 250
        const string Script = "import os,threading,time\n" +
            "def churn():\n  while True:\n    os.close(os.open('/dev/null', os.O_RDONLY)); time.sleep(0.001)\n" +
            "fds=[]\nwhile len(os.listdir('/proc/self/fd')) < 250: fds.append(os.open('/dev/null', os.O_RDONLY))\n" +
            "[threading.Thread(target=churn, daemon=True).start() for _ in range(3)]\nprint('ready', flush=True)\ntime.sleep(600)\n";
        using Process p = DiagnoseProbe.StartReady($"ulimit -n 256 && exec {python} -c \"$0\"", Script, stdin: false);
        try
        {
            int held = Directory.GetFiles($"/proc/{p.Id}/fd").Length;
            using var dir = new TempDirectory("kscope-diag-");
            (int code, StringConsole console) = KscopeCli.Run("diagnose", "--pid", p.Id.ToString(CultureInfo.InvariantCulture), "--for", "2s", "--no-gadgets", "--out", dir["report"], "--json");
            string detail = $"exit {code}; the test counted {held} fds\nstdout: {console.OutText}\nstderr: {console.ErrorText}";
            using JsonDocument doc = JsonDocument.Parse(console.OutText);
            JsonElement finding = DiagnoseProbe.Find(doc, "fd_exhaustion", detail);
            JsonElement e = finding.GetProperty("evidence");
            Assert.Equal(256, e.GetProperty("fd_limit").GetInt64());
            Assert.InRange(e.GetProperty("fds_peak").GetInt64(), held - 3, held + 3);
            Assert.InRange(held, 247, 253);
            Assert.Equal("critical", finding.GetProperty("severity").GetString());
            Assert.Contains("LimitNOFILE=", finding.GetProperty("advice").GetString(), StringComparison.Ordinal);
            Assert.Equal(ExitCodes.Failures, code);
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
    }

    /// <summary>
    /// The same process, asked during the window to open past its limit: the open gadget's failed opens are the
    /// finding's evidence (emfile_errors), as many as the process itself counted (its threads' failures included).
    /// </summary>
    [Fact]
    public void DiagnosePid_ProcessOpeningPastItsLimit_EveryEmfileCounted()
    {
        Requires.Root();
        string python = Requires.Tool("python3", "python3");
        const string Script = "import errno,os,sys,threading,time\nlock=threading.Lock()\nfailed=[0]\n" +
            "def fail():\n  with lock: failed[0]+=1\n" +
            "def churn():\n  while True:\n    try: os.close(os.open('/dev/null', os.O_RDONLY))\n" +
            "    except OSError as e:\n      if e.errno!=errno.EMFILE: raise\n      fail()\n    time.sleep(0.001)\n" +
            "fds=[]\nwhile len(os.listdir('/proc/self/fd')) < 250: fds.append(os.open('/dev/null', os.O_RDONLY))\n" +
            "[threading.Thread(target=churn, daemon=True).start() for _ in range(3)]\nprint('ready', flush=True)\n" +
            "for line in sys.stdin:\n  n=int(line); extra=[]; own=0\n  while own<n:\n" +
            "    try: extra.append(os.open('/dev/null', os.O_RDONLY))\n" +
            "    except OSError as e:\n      if e.errno!=errno.EMFILE: raise\n      own+=1; fail()\n" +
            "  [os.close(f) for f in extra]; time.sleep(0.05)\n  with lock: print(failed[0], flush=True)\n";
        using Process p = DiagnoseProbe.StartReady($"ulimit -n 256 && exec {python} -c \"$0\"", Script);
        try
        {
            using var dir = new TempDirectory("kscope-diag-");
            using KscopeProcess k = DiagnoseProbe.StartWindow(p.Id, dir);
            p.StandardInput.WriteLine("7");
            long failed = long.Parse(p.StandardOutput.ReadLine()!, CultureInfo.InvariantCulture);
            int code = k.WaitForExit(TimeSpan.FromMinutes(2));
            string detail = $"exit {code}; the process counted {failed} EMFILE\nstdout: {k.Out}\nstderr: {k.Err}";
            using JsonDocument doc = JsonDocument.Parse(k.Out);
            Assert.True(DiagnoseProbe.SourceStarted(doc, "open"), detail);
            JsonElement finding = DiagnoseProbe.Find(doc, "fd_exhaustion", detail);
            Assert.True(failed >= 7, detail);
            Assert.True(failed == finding.GetProperty("evidence").GetProperty("emfile_errors").GetInt64(), detail);
            Assert.True(doc.RootElement.GetProperty("drops").GetProperty("gadget_records_lost").GetInt64() == 0, detail);
            Assert.Contains("EMFILE", finding.GetProperty("title").GetString(), StringComparison.Ordinal);
            JsonElement events = doc.RootElement.GetProperty("events");
            Assert.True(failed == events.GetProperty("by_kind").GetProperty("open_error").GetInt64(), detail);
            Assert.Contains(events.GetProperty("first").EnumerateArray(), e => e.GetProperty("payload").GetString() == "EMFILE /dev/null" && e.GetProperty("pid").GetInt32() == p.Id);
            Assert.Equal(ExitCodes.Failures, code);
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
    }

    [Fact]
    public void DiagnosePid_ProcessInAPidsCgroupNearItsMax_PidsExhaustionAtPidsCurrent()
    {
        Requires.Root();
        string python = Requires.Tool("python3", "python3");
        using TempCgroup cg = TempCgroup.Create("pids");
        cg.Write("pids.max", "20");
        // the shell moves itself into the cgroup, then python (the same task) starts 16 threads: 17 tasks of 20
        const string Script = "import threading,time\n[threading.Thread(target=time.sleep, args=(600,), daemon=True).start() for _ in range(16)]\n" +
            "print('ready', flush=True)\ntime.sleep(600)\n";
        using Process p = DiagnoseProbe.StartReady($"echo $$ > {cg.Dir}/cgroup.procs && exec {python} -c \"$0\"", Script, stdin: false);
        try
        {
            long current = long.Parse(File.ReadAllText(Path.Combine(cg.Dir, "pids.current")).Trim(), CultureInfo.InvariantCulture);
            using var dir = new TempDirectory("kscope-diag-");
            (int code, StringConsole console) = KscopeCli.Run("diagnose", "--pid", p.Id.ToString(CultureInfo.InvariantCulture), "--for", "2s", "--no-gadgets", "--out", dir["report"], "--json");
            string detail = $"exit {code}; pids.current {current}\nstdout: {console.OutText}\nstderr: {console.ErrorText}";
            Assert.Equal(17, current);
            using JsonDocument doc = JsonDocument.Parse(console.OutText);
            JsonElement finding = DiagnoseProbe.Find(doc, "pids_exhaustion", detail);
            JsonElement e = finding.GetProperty("evidence");
            Assert.Equal(20, e.GetProperty("pids_max").GetInt64());
            Assert.Equal(current, e.GetProperty("pids_peak").GetInt64());
            Assert.Equal(17, e.GetProperty("target_threads").GetInt64());
            Assert.EndsWith(cg.Path, e.GetProperty("cgroup").GetString(), StringComparison.Ordinal); // the same cgroup, under whichever mount of its hierarchy
            Assert.Equal("warning", finding.GetProperty("severity").GetString());
            Assert.True(code is ExitCodes.Warnings or ExitCodes.Failures, detail);
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
    }
}
