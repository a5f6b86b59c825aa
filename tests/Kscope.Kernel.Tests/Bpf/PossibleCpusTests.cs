using Kscope.Formats;
using Kscope.Kernel.Bpf;

namespace Kscope.Kernel.Tests.Bpf;

public class PossibleCpusTests
{
    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-1\n", 2)]
    [InlineData("0-3,5", 6)]
    [InlineData("0,2-3,8-15", 16)]
    [InlineData("", 0)]
    public void Parse_CpuList_HighestIdPlusOne(string list, int slots) => Assert.Equal(slots, PossibleCpus.Parse(list));

    [Theory]
    [InlineData("3-1")]
    [InlineData("0-x")]
    [InlineData("99999999")]
    public void Parse_Malformed_ThrowsTypedError(string list) =>
        Assert.ThrowsAny<MalformedDataException>(() => PossibleCpus.Parse(list));

    [Fact]
    public void Count_MatchesTheSysfsFileAsLibbpfReadsIt()
    {
        // libbpf_num_possible_cpus: the last number of the last range + 1.
        string text = File.ReadAllText("/sys/devices/system/cpu/possible").Trim();
        string last = text.Split(',')[^1].Split('-')[^1];
        Assert.Equal(int.Parse(last) + 1, PossibleCpus.Count);
    }
}
