using Kscope.Formats.Cgroups;
using Kscope.Formats.Procfs;

namespace Kscope.Formats.Tests.Procfs;

/// <summary>Every prefix and random mutations of real samples either parse or throw MalformedDataException, never anything else.</summary>
public class ParserRobustnessTests
{
    public static TheoryData<string> Parsers => ["status", "stat", "cgroup", "mountinfo", "maps", "limits", "config", "cpu.stat", "psi", "cpu.max", "cpulist", "schedstat"];

    private static (string Sample, Action<string> Parse) For(string name) => name switch
    {
        "status" => (ProcfsSamples.Status, t => Touch(ProcStatus.Parse(t))),
        "stat" => (ProcfsSamples.Stat, t => ProcStat.Parse(t)),
        "cgroup" => (ProcfsSamples.Cgroup, t => ProcCgroupEntry.Parse(t)),
        "mountinfo" => (ProcfsSamples.MountInfo, t => MountInfoEntry.Parse(t)),
        "maps" => (ProcfsSamples.Maps, t => ProcMapsEntry.Parse(t)),
        "limits" => (ProcfsSamples.Limits, t => ProcLimit.Parse(t)),
        "config" => (ProcfsSamples.Config, t => KernelConfig.Parse(t)),
        "cpu.stat" => (ProcfsSamples.CpuStatV2, t => FlatKeyed.Parse(t, "cpu.stat")),
        "psi" => (ProcfsSamples.Pressure, t => Pressure.Parse(t)),
        "cpu.max" => ("20000 100000\n", t => CpuMax.Parse(t)),
        "cpulist" => ("0-3,8,10-11\n", t => CpuList.Parse(t)),
        "schedstat" => ("1234567890 98765432 4321\n", t => ProcSchedStat.Parse(t)),
        _ => throw new ArgumentException(name),
    };

    // The typed accessors parse on demand: exercise them too.
    private static void Touch(ProcStatus s)
    {
        foreach (string key in s.Keys)
        {
            _ = s.Get(key);
        }
        try
        {
            _ = (s.Pid, s.PPid, s.CapEff, s.CapPrm, s.Uids, s.Seccomp, s.NoNewPrivs, s.VmRssBytes);
        }
        catch (MalformedDataException)
        {
            throw;
        }
    }

    [Theory]
    [MemberData(nameof(Parsers))]
    public void EveryPrefix_ParsesOrThrowsTyped(string parser)
    {
        var (sample, parse) = For(parser);
        for (int i = 0; i <= sample.Length; i++)
        {
            ParseOrTyped(parse, sample[..i]);
        }
    }

    [Theory]
    [MemberData(nameof(Parsers))]
    public void Mutations_ParseOrThrowTyped(string parser)
    {
        var (sample, parse) = For(parser);
        var random = new Random(parser.GetHashCode(StringComparison.Ordinal) & 0x7fffffff);
        char[] alphabet = ['\0', '\n', ' ', '\t', ':', '-', '(', ')', '\\', '=', '9', 'x', 'ÿ', '.'];
        for (int round = 0; round < 400; round++)
        {
            char[] text = sample.ToCharArray();
            for (int k = random.Next(1, 4); k > 0; k--)
            {
                text[random.Next(text.Length)] = alphabet[random.Next(alphabet.Length)];
            }
            ParseOrTyped(parse, new string(text));
        }
    }

    [Theory]
    [MemberData(nameof(Parsers))]
    public void HostileInput_HugeNumbersAndLongLines_ThrowTyped(string parser)
    {
        var (_, parse) = For(parser);
        ParseOrTyped(parse, new string('9', 100_000));
        ParseOrTyped(parse, string.Concat(Enumerable.Repeat("a 99999999999999999999999999\n", 1000)));
        ParseOrTyped(parse, "\n\n\n");
    }

    private static void ParseOrTyped(Action<string> parse, string text)
    {
        try
        {
            parse(text);
        }
        catch (MalformedDataException)
        {
        }
    }
}
