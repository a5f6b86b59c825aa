using Kscope.Formats.Go;

namespace Kscope.Formats.Tests.Go;

public class GoroutineDumpTests
{
    // Shaped like Go 1.19-1.22 /debug/pprof/goroutine?debug=2 output.
    internal const string Sample =
        "goroutine 1 [running]:\n" +
        "main.main()\n" +
        "\t/src/prog/main.go:40 +0x1d\n" +
        "\n" +
        "goroutine 18 [chan receive, 5 minutes, locked to thread]:\n" +
        "main.worker(0xc000010000, {0x4b7f60, 0x3})\n" +
        "\t/src/prog/main.go:12 +0x25\n" +
        "main.(*pool).run(...)\n" +
        "\t/src/prog/pool.go:7\n" +
        "created by main.main in goroutine 1\n" +
        "\t/src/prog/main.go:20 +0x3e\n" +
        "\n" +
        "goroutine 19 [sync.Mutex.Lock]:\n" +
        "sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)\n" +
        "\t/usr/lib/go/src/runtime/sema.go:77 +0x25 fp=0xc sp=0xc pc=0x4\n" +
        "...additional frames elided...\n" +
        "created by main.main\n" +
        "\t/src/prog/main.go:21 +0x3e\n" +
        "\n" +
        "goroutine 20 [running]:\n" +
        "\tgoroutine running on other thread; stack unavailable\n";

    [Fact]
    public void Parse_Dump_ReadsStatesFramesAndCreators()
    {
        IReadOnlyList<Goroutine> gs = GoroutineDump.Parse("panic: boom\n\n" + Sample + "\nexit status 2\n");
        Assert.Equal([1L, 18, 19, 20], gs.Select(g => g.Id));
        Goroutine w = gs[1];
        Assert.Equal("chan receive", w.State);
        Assert.Equal(TimeSpan.FromMinutes(5), w.Waiting);
        Assert.True(w.LockedToThread);
        Assert.Equal(["main.worker", "main.(*pool).run"], w.Frames.Select(f => f.Function));
        Assert.Equal("0xc000010000, {0x4b7f60, 0x3}", w.Frames[0].Arguments);
        Assert.Equal(("/src/prog/main.go", 12, 0x25L), (w.Frames[0].File, w.Frames[0].Line, w.Frames[0].PcOffset));
        Assert.Equal("main.main", w.CreatedBy!.Function);
        Assert.Equal(1, w.CreatorId);
        Assert.Equal("sync.Mutex.Lock", gs[2].State);
        Assert.True(gs[2].FramesElided);
        Assert.Equal(77, gs[2].Frames[0].Line);
        Assert.True(gs[3].StackUnavailable);
        Assert.Null(gs[0].CreatedBy);
    }

    [Fact]
    public void Parse_EveryPrefix_ParsesOrThrowsTyped()
    {
        for (int n = 0; n <= Sample.Length; n++)
        {
            try
            {
                GoroutineDump.Parse(Sample[..n]);
            }
            catch (MalformedDataException e)
            {
                Assert.True(e.Line > 0);
            }
        }
    }

    [Fact]
    public void Parse_Mutated_ParsesOrThrowsTyped()
    {
        var rng = new Random(7);
        const string alphabet = "\n\t :[](),+0x9goroutine";
        for (int i = 0; i < 3000; i++)
        {
            char[] c = Sample.ToCharArray();
            for (int k = 0; k < 1 + rng.Next(3); k++)
            {
                c[rng.Next(c.Length)] = alphabet[rng.Next(alphabet.Length)];
            }
            try
            {
                GoroutineDump.Parse(new string(c));
            }
            catch (MalformedDataException)
            {
            }
        }
    }

    [Theory]
    [InlineData("goroutine x [running]:\nmain.main()\n\t/a.go:1\n", 1, "not a number")]
    [InlineData("goroutine 1 running\n", 1, "without '[state]:'")]
    [InlineData("goroutine [running]:\nmain.main()\n\t/a.go:1 +0x1\n", 1, "without an id")]
    [InlineData("goroutine 1 [running]:\nmain.main()\n", 2, "without a following")]
    [InlineData("goroutine 1 [running]:\nmain.main()\n\t/a.go:x\n", 3, "file:line")]
    [InlineData("goroutine 1 [running]:\n\t/a.go:1\n", 2, "without a function")]
    public void Parse_Malformed_ThrowsWithLine(string text, int line, string reason)
    {
        var e = Assert.Throws<MalformedDataException>(() => GoroutineDump.Parse(text, "dump.txt"));
        Assert.Equal(line, e.Line);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }
}
