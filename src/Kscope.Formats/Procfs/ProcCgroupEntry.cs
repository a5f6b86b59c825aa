namespace Kscope.Formats.Procfs;

/// <summary>
/// One line of /proc/PID/cgroup: <c>hierarchy-id:controller-list:path</c> (cgroups(7)). The v2
/// unified hierarchy is id 0 with an empty controller list; named v1 hierarchies list "name=systemd".
/// </summary>
public sealed record ProcCgroupEntry(int HierarchyId, IReadOnlyList<string> Controllers, string Path)
{
    private const string Format = "proc cgroup";

    public bool IsUnified => HierarchyId == 0 && Controllers.Count == 0;

    public static IReadOnlyList<ProcCgroupEntry> Parse(string text, string source = "/proc/self/cgroup")
    {
        var entries = new List<ProcCgroupEntry>();
        foreach (var (line, content) in TextParsing.Lines(text))
        {
            int first = content.IndexOf(':');
            int second = first < 0 ? -1 : content.IndexOf(':', first + 1);
            if (second < 0)
            {
                throw new MalformedDataException(Format, source, line, $"expected 'id:controllers:path', got '{TextParsing.Clip(content)}'");
            }
            int id = TextParsing.I32(Format, source, line, content[..first], "hierarchy id");
            if (id < 0)
            {
                throw new MalformedDataException(Format, source, line, $"negative hierarchy id {id}");
            }
            string path = content[(second + 1)..];
            if (!path.StartsWith('/'))
            {
                throw new MalformedDataException(Format, source, line, $"cgroup path '{TextParsing.Clip(path)}' is not absolute");
            }
            string list = content[(first + 1)..second];
            string[] controllers = list.Length == 0 ? [] : list.Split(',');
            entries.Add(new ProcCgroupEntry(id, controllers, path));
        }
        if (entries.Count == 0)
        {
            throw new MalformedDataException(Format, source, 1, "empty");
        }
        return entries;
    }
}
