using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Kscope.TestKit;

/// <summary>
/// A real service, already running and busy when the code under test attaches to it: the Go HTTP
/// server of tests/Kscope.TestKit/service/main.go (net/http/pprof, GOMAXPROCS ≥ 2, CPU-heavy handlers
/// with a known shape, endpoints that start new threads and child processes on demand), driven by a
/// bounded loopback load generator (the same binary in -load mode: N closed-loop clients, stopping on
/// its own), optionally in a cgroup of its own with a CPU quota or a container-like name. Dispose kills
/// the load, the service and its children and removes the cgroups.
/// </summary>
/// <example>
/// <code>
/// using var svc = ServiceUnderLoad.Start(new() { Gomaxprocs = 2, Clients = 4 });
/// // svc.Pid is busy on several threads now; attach, sample, compare.
/// </code>
/// </example>
public sealed class ServiceUnderLoad : IDisposable
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Process _service;
    private Process? _load;
    private readonly List<string> _stderr = [];

    private ServiceUnderLoad(ServiceUnderLoadOptions options, string executable, Process service, CgroupSet? cgroups, string baseUrl)
    {
        Options = options;
        Executable = executable;
        _service = service;
        Cgroups = cgroups;
        BaseUrl = baseUrl;
    }

    /// <summary>The service's source (main.go).</summary>
    public static string Source => Path.Combine(Tools.RepoRoot, "tests", "Kscope.TestKit", "service", "main.go");

    public ServiceUnderLoadOptions Options { get; }

    /// <summary>The built service binary (cached by source hash, see <see cref="GoBuild"/>).</summary>
    public string Executable { get; }

    /// <summary>The service's pid (the Go process itself, not a wrapper).</summary>
    public int Pid => _service.Id;

    /// <summary>http://127.0.0.1:PORT</summary>
    public string BaseUrl { get; }

    /// <summary>http://127.0.0.1:PORT/debug/pprof/ (net/http/pprof).</summary>
    public string PprofUrl => BaseUrl + "/debug/pprof/";

    /// <summary>The service's cgroups (null unless asked for).</summary>
    public CgroupSet? Cgroups { get; }

    /// <summary>
    /// The service's cgroup directory: the unified (v2) one where mounted, else its v1 cpu one; null without
    /// <see cref="ServiceUnderLoadOptions.Cgroup"/>.
    /// </summary>
    public string? CgroupPath => Cgroups is null ? null : Cgroups.Unified ?? Cgroups.V1.GetValueOrDefault("cpu");

    /// <summary>The container id the cgroup is named after, if any.</summary>
    public string? ContainerId => Options.ContainerId;

    /// <summary>The load generator's pid while it runs.</summary>
    public int? LoadPid => _load is { HasExited: false } l ? l.Id : null;

    /// <summary>What the service wrote on stderr so far (for assertion messages).</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    /// <summary>A random 64-hex-digit id, as Docker and containerd make them.</summary>
    public static string NewContainerId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// Builds (once) and starts the service, starts the load, and returns once the service has answered
    /// requests, so it is running and busy when the caller attaches. Skips (fails under KSCOPE_STRICT=1)
    /// without go; skips when a cgroup with a quota is asked for and no hierarchy has the cpu controller.
    /// </summary>
    public static ServiceUnderLoad Start(ServiceUnderLoadOptions? options = null)
    {
        options ??= new ServiceUnderLoadOptions();
        if (options.Gomaxprocs < 2 || options.Clients is < 1 or > 64 || options.WorkUnits is < 1 or > 1000)
        {
            throw new ArgumentException("Gomaxprocs must be ≥ 2, Clients 1..64, WorkUnits 1..1000", nameof(options));
        }
        string exe = GoBuild.Build(Source, options.Pie ? ["-buildmode=pie"] : []);
        CgroupSet? cgroups = null;
        Process? service = null;
        try
        {
            if (options.WantsCgroup)
            {
                string unique = $"kscope-svc-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
                cgroups = CgroupSet.Create(options.ContainerId is { } id ? $"{unique}/docker-{id}.scope" : unique, options.CpuQuota);
            }
            string serve = $"'{exe}' -serve -max-lifetime {(long)options.MaxLifetime.TotalSeconds}s";
            // In its cgroups from its first instruction: the shell moves itself in, then execs the service (same pid).
            var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(cgroups is null ? $"exec {serve}" : $"{cgroups.EnterScript} && exec {serve}");
            psi.Environment["GOMAXPROCS"] = options.Gomaxprocs.ToString(CultureInfo.InvariantCulture);
            service = Process.Start(psi) ?? throw new InvalidOperationException("cannot start /bin/sh");
            var errors = new List<string>();
            service.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (errors)
                    {
                        errors.Add(e.Data);
                    }
                }
            };
            service.BeginErrorReadLine();
            Task<string?> first = service.StandardOutput.ReadLineAsync();
            if (!first.Wait(TimeSpan.FromSeconds(60)) || first.Result is not string line || !line.StartsWith("listening ", StringComparison.Ordinal))
            {
                string err;
                lock (errors)
                {
                    err = string.Join('\n', errors);
                }
                throw new InvalidOperationException($"the service did not start (first line '{(first.IsCompleted ? first.Result : "<none in 60 s>")}'): {err}");
            }
            var svc = new ServiceUnderLoad(options, exe, service, cgroups, "http://" + line["listening ".Length..].Trim());
            svc._stderr.AddRange(errors);
            service.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (svc._stderr)
                    {
                        svc._stderr.Add(e.Data);
                    }
                }
            };
            try
            {
                if (options.StartLoad)
                {
                    svc.StartLoad();
                    svc.WaitUntilBusy(minRequests: 3);
                }
                return svc;
            }
            catch
            {
                svc.Dispose();
                throw;
            }
        }
        catch
        {
            if (service is not null && !service.HasExited)
            {
                KillTree(service);
            }
            service?.Dispose();
            cgroups?.Dispose();
            throw;
        }
    }

    /// <summary>Starts the load generator (outside the service's cgroup; GOMAXPROCS=1 so it stays small); stops the previous one.</summary>
    public void StartLoad(int? clients = null, TimeSpan? duration = null)
    {
        StopLoad();
        var psi = new ProcessStartInfo(Executable) { UseShellExecute = false, RedirectStandardError = true };
        foreach (string a in new[]
        {
            "-load", BaseUrl,
            "-c", (clients ?? Options.Clients).ToString(CultureInfo.InvariantCulture),
            "-n", Options.WorkUnits.ToString(CultureInfo.InvariantCulture),
            "-for", $"{(long)(duration ?? Options.LoadFor).TotalMilliseconds}ms",
        })
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["GOMAXPROCS"] = "1";
        _load = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {Executable} -load");
        _load.ErrorDataReceived += (_, _) => { };
        _load.BeginErrorReadLine();
    }

    /// <summary>Stops the load generator (the service keeps running, idle).</summary>
    public void StopLoad()
    {
        if (_load is not null)
        {
            if (!_load.HasExited)
            {
                KillTree(_load);
            }
            _load.Dispose();
            _load = null;
        }
    }

    /// <summary>The service's own view: requests served, threads, GOMAXPROCS.</summary>
    public ServiceStats Stats()
    {
        using JsonDocument doc = JsonDocument.Parse(Get("/stats"));
        JsonElement r = doc.RootElement;
        return new ServiceStats(r.GetProperty("requests").GetInt64(), r.GetProperty("threads").GetInt32(), r.GetProperty("gomaxprocs").GetInt32());
    }

    /// <summary>The service's threads now (/proc/PID/task).</summary>
    public IReadOnlyList<int> Tids()
    {
        var tids = new List<int>();
        try
        {
            foreach (string dir in Directory.GetDirectories($"/proc/{Pid}/task"))
            {
                if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
                {
                    tids.Add(tid);
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
        }
        tids.Sort();
        return tids;
    }

    /// <summary>
    /// Polls until the service has served <paramref name="minRequests"/> more requests and runs at least
    /// <paramref name="minThreads"/> threads (default GOMAXPROCS + 1); fails after <paramref name="timeout"/> (default 60 s).
    /// </summary>
    public void WaitUntilBusy(int minRequests = 1, int? minThreads = null, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        long start = Stats().Requests;
        int threads = minThreads ?? Options.Gomaxprocs + 1;
        ServiceStats s;
        do
        {
            s = Stats();
            if (s.Requests - start >= minRequests && s.Threads >= threads)
            {
                return;
            }
            Thread.Sleep(50);
        }
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)));
        Assert.Fail($"the service is not busy: {s.Requests - start} of {minRequests} requests, {s.Threads} of {threads} threads in {deadline.Elapsed.TotalSeconds:F0} s (load generator {(LoadPid is null ? "not running" : "running")}); stderr: {Stderr}");
    }

    /// <summary>
    /// Asks the service for an OS thread born for this call (no thread of the process had its tid
    /// before), spinning in main.lockedSpin for <paramref name="spin"/> and then ending; returns its tid.
    /// </summary>
    public int SpawnThread(TimeSpan spin) => int.Parse(Get($"/spawn-thread?ms={(long)spin.TotalMilliseconds}").Trim(), CultureInfo.InvariantCulture);

    /// <summary>Asks the service to fork/exec a child burning CPU in main.childBurn for <paramref name="burn"/>; returns its pid.</summary>
    public int SpawnChild(TimeSpan burn) => int.Parse(Get($"/spawn-child?ms={(long)burn.TotalMilliseconds}").Trim(), CultureInfo.InvariantCulture);

    /// <summary>GET a path of the service (e.g. "/debug/pprof/profile?seconds=2") as a string.</summary>
    public string Get(string path) => s_http.GetStringAsync(BaseUrl + path).GetAwaiter().GetResult();

    /// <summary>GET a path of the service as bytes.</summary>
    public byte[] GetBytes(string path) => s_http.GetByteArrayAsync(BaseUrl + path).GetAwaiter().GetResult();

    public void Dispose()
    {
        StopLoad();
        if (!_service.HasExited)
        {
            KillTree(_service);
        }
        _service.Dispose();
        Cgroups?.Dispose(); // kills anything left inside (children) and removes the directories
    }

    private static void KillTree(Process p)
    {
        try
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }
}

/// <summary>The service's /stats.</summary>
public readonly record struct ServiceStats(long Requests, int Threads, int Gomaxprocs);
