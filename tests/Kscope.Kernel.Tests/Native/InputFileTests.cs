using Kscope.Native;

namespace Kscope.Kernel.Tests.Native;

/// <summary>
/// The guarded reader every command uses for files a user names: regular files only (checked on the open fd),
/// a size limit before reading, FIFOs refused without blocking, procfs files (size 0) read to the end.
/// </summary>
public sealed class InputFileTests
{
    [Theory]
    [InlineData("/dev/zero", "character device")]
    [InlineData("/dev/urandom", "character device")]
    [InlineData("/dev/null", "character device")]
    [InlineData("/tmp", "directory")]
    public void ReadAllBytes_NotARegularFile_ThrowsSayingWhatItIs(string path, string kind)
    {
        var e = Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes(path));
        Assert.Contains(kind, e.Message, StringComparison.Ordinal);
        Assert.StartsWith(path + ":", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAllBytes_Fifo_RefusedWithoutBlocking()
    {
        using var dir = new TempDirectory("kscope-inputfile-");
        string fifo = Path.Combine(dir.Path, "pipe");
        Tools.Check("mkfifo", fifo);
        // No writer ever opens it: a blocking open would never return. The deadline is generous, not a timing check.
        var read = Task.Run(() => Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes(fifo)));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(60))));
        Assert.Contains("FIFO", (await read).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAllBytes_RegularFile_ReturnsItsBytes()
    {
        using var dir = new TempDirectory("kscope-inputfile-");
        string file = Path.Combine(dir.Path, "data");
        byte[] data = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        File.WriteAllBytes(file, data);
        Assert.Equal(data, InputFile.ReadAllBytes(file));
        Assert.Empty(InputFile.ReadAllBytes(CreateEmpty(dir.Path)));
    }

    [Fact]
    public void ReadAllBytes_LargerThanTheLimit_ThrowsBeforeReading()
    {
        using var dir = new TempDirectory("kscope-inputfile-");
        string file = Path.Combine(dir.Path, "big");
        using (var f = File.Create(file))
        {
            f.SetLength(10L << 30); // sparse: 10 GiB claimed, nothing written
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes(file, 1 << 20));
        Assert.Contains("more than the 1048576 bytes", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the reader allocated before refusing");
    }

    [Fact]
    public void ReadAllBytes_ProcfsFileOfSizeZero_ReadsToTheEnd()
    {
        string status = System.Text.Encoding.UTF8.GetString(InputFile.ReadAllBytes("/proc/self/status"));
        Assert.Contains("Pid:", status, StringComparison.Ordinal);
        Assert.EndsWith("\n", status, StringComparison.Ordinal);
        Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes("/proc/self/maps", 16));
    }

    [Fact]
    public void ReadAllBytes_Missing_IsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => InputFile.ReadAllBytes($"/nonexistent-{Environment.ProcessId}"));
    }

    private static string CreateEmpty(string dir)
    {
        string p = Path.Combine(dir, "empty");
        File.WriteAllBytes(p, []);
        return p;
    }
}
