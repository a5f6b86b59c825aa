using System.Globalization;

namespace Kscope.Formats.Go;

/// <summary>
/// Parses Go's text goroutine dump: <c>/debug/pprof/goroutine?debug=2</c>, <c>SIGQUIT</c> output or
/// a panic's traceback. Shape (one block per goroutine, blank lines between):
/// <code>
/// goroutine 18 [chan receive, 5 minutes, locked to thread]:
/// main.worker(0xc000010000, {0x4b7f60, 0x3})
///         /src/main.go:12 +0x25
/// ...additional frames elided...
/// created by main.main in goroutine 1
///         /src/main.go:20 +0x3e
/// </code>
/// Lines before the first "goroutine" header (a panic message) are ignored; anything malformed after
/// it throws <see cref="MalformedDataException"/> with the line number.
/// </summary>
public static class GoroutineDump
{
    private const string Format = "goroutine dump";

    public static IReadOnlyList<Goroutine> Parse(string text, string source = "<input>")
    {
        var result = new List<Goroutine>();
        string[] lines = text.Split('\n');
        int i = 0;
        // Skip a preamble (panic message, "fatal error: …") until the first header.
        while (i < lines.Length && !lines[i].StartsWith("goroutine ", StringComparison.Ordinal))
        {
            i++;
        }
        while (i < lines.Length)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
            {
                i++;
                continue;
            }
            if (!line.StartsWith("goroutine ", StringComparison.Ordinal))
            {
                // Text after the dump (e.g. "exit status 2") ends it.
                if (result.Count > 0 && !line.StartsWith('\t') && !line.Contains('(', StringComparison.Ordinal))
                {
                    break;
                }
                throw new MalformedDataException(Format, source, i + 1, $"expected 'goroutine N [state]:', got '{Clip(line)}'");
            }
            result.Add(ParseGoroutine(lines, ref i, source));
        }
        return result;
    }

    private static Goroutine ParseGoroutine(string[] lines, ref int i, string source)
    {
        int headerLine = i + 1;
        string header = lines[i].TrimEnd('\r');
        i++;
        // goroutine 18 [chan receive, 5 minutes]:   (Go 1.21+ with GOTRACEBACK=system: goroutine 18 gp=0x… m=nil [..]:)
        int open = header.IndexOf(" [", StringComparison.Ordinal);
        if (open < 0 || !header.EndsWith("]:", StringComparison.Ordinal) || open + 2 > header.Length - 2)
        {
            throw new MalformedDataException(Format, source, headerLine, $"goroutine header without '[state]:': '{Clip(header)}'");
        }
        if (open <= "goroutine ".Length)
        {
            // "goroutine [running]:": the id is missing (the slice below would start after it ends).
            throw new MalformedDataException(Format, source, headerLine, $"goroutine header without an id: '{Clip(header)}'");
        }
        string idText = header["goroutine ".Length..open];
        int space = idText.IndexOf(' ');
        if (space >= 0)
        {
            idText = idText[..space];
        }
        if (!long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out long id))
        {
            throw new MalformedDataException(Format, source, headerLine, $"goroutine id '{Clip(idText)}' is not a number");
        }
        string bracket = header[(open + 2)..^2];
        string state = bracket;
        TimeSpan? waiting = null;
        bool locked = false;
        string[] parts = bracket.Split(", ");
        if (parts.Length > 1)
        {
            state = parts[0];
            foreach (string p in parts.AsSpan(1))
            {
                if (p == "locked to thread")
                {
                    locked = true;
                }
                else if (p.EndsWith(" minutes", StringComparison.Ordinal) &&
                         long.TryParse(p.AsSpan(0, p.Length - " minutes".Length), NumberStyles.None, CultureInfo.InvariantCulture, out long minutes) &&
                         minutes < 1_000_000_000)
                {
                    waiting = TimeSpan.FromMinutes(minutes);
                }
                else
                {
                    state += ", " + p;
                }
            }
        }

        var frames = new List<GoroutineFrame>();
        GoroutineFrame? createdBy = null;
        long creator = 0;
        bool elided = false, unavailable = false;
        while (i < lines.Length)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith("goroutine ", StringComparison.Ordinal))
            {
                break;
            }
            int lineNo = i + 1;
            i++;
            if (line == "...additional frames elided...")
            {
                elided = true;
                continue;
            }
            if (line.StartsWith('\t'))
            {
                if (line.Contains("stack unavailable", StringComparison.Ordinal))
                {
                    unavailable = true;
                    continue;
                }
                throw new MalformedDataException(Format, source, lineNo, $"file:line without a function: '{Clip(line)}'");
            }
            if (line.StartsWith("created by ", StringComparison.Ordinal))
            {
                string fn = line["created by ".Length..];
                int inG = fn.IndexOf(" in goroutine ", StringComparison.Ordinal);
                if (inG >= 0)
                {
                    long.TryParse(fn.AsSpan(inG + " in goroutine ".Length), NumberStyles.None, CultureInfo.InvariantCulture, out creator);
                    fn = fn[..inG];
                }
                var (file, ln, pc) = FileLine(lines, ref i, source, lineNo);
                createdBy = new GoroutineFrame(fn, "", file, ln, pc);
                continue;
            }
            // main.worker(0xc000010000, ...)
            string function = line, args = "";
            if (line.EndsWith(')'))
            {
                int paren = line.LastIndexOf('(');
                if (paren > 0)
                {
                    function = line[..paren];
                    args = line[(paren + 1)..^1];
                }
            }
            var (f, n, o) = FileLine(lines, ref i, source, lineNo);
            frames.Add(new GoroutineFrame(function, args, f, n, o));
        }
        return new Goroutine
        {
            Id = id,
            State = state,
            Waiting = waiting,
            LockedToThread = locked,
            Frames = frames,
            CreatedBy = createdBy,
            CreatorId = creator,
            FramesElided = elided,
            StackUnavailable = unavailable,
        };
    }

    /// <summary>"\t/path/file.go:123 +0x1d" (maybe followed by "fp=… sp=… pc=…").</summary>
    private static (string File, int Line, long Pc) FileLine(string[] lines, ref int i, string source, int functionLine)
    {
        if (i >= lines.Length || !lines[i].StartsWith('\t'))
        {
            throw new MalformedDataException(Format, source, functionLine, "function without a following '\\tfile:line' line");
        }
        int lineNo = i + 1;
        string text = lines[i].TrimEnd('\r')[1..];
        i++;
        string location = text;
        long pc = 0;
        int space = text.IndexOf(' ');
        if (space >= 0)
        {
            location = text[..space];
            string rest = text[(space + 1)..];
            if (rest.StartsWith("+0x", StringComparison.Ordinal))
            {
                int end = rest.IndexOf(' ');
                string hex = end < 0 ? rest[3..] : rest[3..end];
                if (!long.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out pc))
                {
                    throw new MalformedDataException(Format, source, lineNo, $"bad pc offset '{Clip(rest)}'");
                }
            }
        }
        int colon = location.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(location.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int number))
        {
            throw new MalformedDataException(Format, source, lineNo, $"expected 'file:line', got '{Clip(text)}'");
        }
        return (location[..colon], number, pc);
    }

    private static string Clip(string s) => s.Length <= 80 ? s : s[..77] + "...";
}
