using System.Globalization;
using System.Text;

namespace Kscope.Diagnostics.Pprof;

/// <summary>
/// Renders a flame graph (root on top, callees below, width = inclusive value) as one self-contained
/// SVG: click a frame to zoom to it, "Search" (or Ctrl-F) highlights frames matching a regex and
/// shows their share, "Reset zoom" goes back. No external scripts, fonts or styles. With a
/// baseline (diff), widths are the new profile's and colours say grew (red) or shrank (blue).
/// </summary>
public static class FlameGraph
{
    private const double Width = 1200;
    private const int FrameHeight = 17;
    private const int Top = 34;
    private const double MinWidth = 0.1;
    private const int MaxDepth = 512;

    public static string Svg(FlameNode root, string title, string unit, bool diff = false)
    {
        // Only frames at least MinWidth wide are drawn, so only they set the height.
        int depth = Math.Min(VisibleDepth(root, Width / Math.Max(1, root.Value), 0), MaxDepth);
        int height = Top + depth * FrameHeight + 24;
        var sb = new StringBuilder(1 << 16);
        sb.Append(CultureInfo.InvariantCulture, $"<?xml version=\"1.0\" standalone=\"no\"?>\n<svg version=\"1.1\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" xmlns=\"http://www.w3.org/2000/svg\" onload=\"kscopeInit()\">\n");
        AppendBody(sb, root, title, unit, diff, height);
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>An HTML page holding the SVG inline, with a search box.</summary>
    public static string Html(FlameNode root, string title, string unit, bool diff = false)
    {
        string svg = Svg(root, title, unit, diff);
        svg = svg[(svg.IndexOf("<svg", StringComparison.Ordinal))..];
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + Escape(title) + "</title>\n" +
               "<style>body{font-family:sans-serif;margin:12px} input{width:30em}</style></head><body>\n" +
               "<p><input id=\"kscope-q\" placeholder=\"search (regex), Enter\" onkeydown=\"if(event.key==='Enter')kscopeSearch(this.value)\"> " +
               "<button onclick=\"kscopeReset()\">reset zoom</button></p>\n" + svg + "</body></html>\n";
    }

    private static void AppendBody(StringBuilder sb, FlameNode root, string title, string unit, bool diff, int height)
    {
        sb.Append("<style>text{font-family:Verdana,sans-serif;font-size:12px;fill:#000} .f:hover rect{stroke:#000;stroke-width:0.5} .f{cursor:pointer} #kscope-ctl text{cursor:pointer;fill:#0645ad}</style>\n");
        sb.Append("<script type=\"text/ecmascript\"><![CDATA[\n").Append(Script).Append("]]></script>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{height}\" fill=\"#f8f8f8\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"16\" text-anchor=\"middle\" style=\"font-size:15px\">{Escape(title)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<g id=\"kscope-ctl\"><text id=\"kscope-reset\" x=\"10\" y=\"16\" onclick=\"kscopeReset()\" visibility=\"hidden\">Reset zoom</text><text x=\"{Width - 70}\" y=\"16\" onclick=\"kscopePrompt()\">Search</text></g>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text id=\"kscope-matched\" x=\"{Width - 10}\" y=\"{height - 8}\" text-anchor=\"end\"></text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text id=\"kscope-details\" x=\"10\" y=\"{height - 8}\"></text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<g id=\"kscope-frames\" data-total=\"{root.Value}\">\n");
        long total = Math.Max(1, root.Value);
        long maxDelta = diff ? Math.Max(1, MaxDelta(root)) : 1;
        AppendFrame(sb, root, 0, Width / total, 0, total, unit, diff, maxDelta);
        sb.Append("</g>\n");
    }

    private static int VisibleDepth(FlameNode n, double scale, int depth)
    {
        if (n.Value * scale < MinWidth || depth >= MaxDepth)
        {
            return 0;
        }
        int max = 0;
        foreach (FlameNode c in n.Children)
        {
            max = Math.Max(max, VisibleDepth(c, scale, depth + 1));
        }
        return max + 1;
    }

    private static long MaxDelta(FlameNode n, int depth = 0)
    {
        long m = Math.Abs(n.Value - n.Base);
        if (depth >= MaxDepth)
        {
            return m;
        }
        foreach (FlameNode c in n.Children)
        {
            m = Math.Max(m, MaxDelta(c, depth + 1));
        }
        return m;
    }

    private static void AppendFrame(StringBuilder sb, FlameNode n, double x, double scale, int depth, long total, string unit, bool diff, long maxDelta)
    {
        double w = n.Value * scale;
        if (w < MinWidth || depth >= MaxDepth)
        {
            return;
        }
        double y = Top + depth * FrameHeight;
        string info = $"{n.Name} ({ValueFormat.Format(n.Value, unit)}, {ValueFormat.Percent(n.Value, total)}";
        if (diff)
        {
            long delta = n.Value - n.Base;
            info += $", base {ValueFormat.Format(n.Base, unit)}, {(delta >= 0 ? "+" : "")}{ValueFormat.Format(delta, unit)}";
        }
        info += ")";
        string fill = diff ? DiffColor(n.Value - n.Base, maxDelta) : Color(n.Name);
        sb.Append(CultureInfo.InvariantCulture,
            $"<g class=\"f\" data-x=\"{x:0.###}\" data-w=\"{w:0.###}\" data-d=\"{depth}\" onclick=\"kscopeZoom(this)\"><title>{Escape(info)}</title>" +
            $"<rect x=\"{x:0.###}\" y=\"{y}\" width=\"{w:0.###}\" height=\"{FrameHeight - 1}\" rx=\"2\" fill=\"{fill}\"/>" +
            $"<text x=\"{x + 3:0.###}\" y=\"{y + 12}\">{Escape(Fit(n.Name, w))}</text></g>\n");
        if (n.ChildCount == 0)
        {
            return;
        }
        FlameNode[] children = [.. n.Children];
        Array.Sort(children, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        double cx = x;
        foreach (FlameNode c in children)
        {
            AppendFrame(sb, c, cx, scale, depth + 1, total, unit, diff, maxDelta);
            cx += c.Value * scale;
        }
    }

    private static string Fit(string name, double width)
    {
        int chars = (int)((width - 6) / 7);
        if (chars < 3)
        {
            return "";
        }
        return name.Length <= chars ? name : name[..(chars - 2)] + "..";
    }

    /// <summary>A warm colour from the name's hash, stable across runs.</summary>
    private static string Color(string name)
    {
        uint h = 2166136261;
        foreach (char c in name)
        {
            h = (h ^ c) * 16777619;
        }
        int r = 205 + (int)(h % 50);
        int g = 60 + (int)((h >> 8) % 150);
        int b = (int)((h >> 16) % 55);
        return $"rgb({r},{g},{b})";
    }

    private static string DiffColor(long delta, long maxDelta)
    {
        int k = (int)(200 * Math.Min(1.0, Math.Abs(delta) / (double)maxDelta));
        return delta > 0 ? $"rgb(255,{220 - k},{220 - k})" : delta < 0 ? $"rgb({220 - k},{220 - k},255)" : "rgb(220,220,220)";
    }

    private static string Escape(string s) => s
        .Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);

    // Zoom: frames inside the clicked one are rescaled to the full width, its ancestors span it,
    // everything else is hidden. Search: a regex over names; matched frames turn magenta and the
    // share of the (non-overlapping) matched width is shown.
    private const string Script = """
        var W = 1200, frames = [], orig = {};
        function kscopeInit() {
          frames = Array.prototype.slice.call(document.querySelectorAll('#kscope-frames .f'));
          frames.forEach(function (g) { var r = g.querySelector('rect'); g._x = +g.getAttribute('data-x'); g._w = +g.getAttribute('data-w'); g._d = +g.getAttribute('data-d'); g._fill = r.getAttribute('fill'); g._name = g.querySelector('title').textContent.replace(/ \([^()]*\)$/, ''); });
          document.addEventListener('keydown', function (e) { if ((e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); kscopePrompt(); } });
        }
        function fit(name, w) { var n = Math.floor((w - 6) / 7); if (n < 3) return ''; return name.length <= n ? name : name.substring(0, n - 2) + '..'; }
        function place(g, x, w) {
          var r = g.querySelector('rect'), t = g.querySelector('text');
          if (w < 0.1) { g.style.display = 'none'; return; }
          g.style.display = ''; r.setAttribute('x', x); r.setAttribute('width', w); t.setAttribute('x', x + 3); t.textContent = fit(g._name, w);
        }
        function kscopeZoom(z) {
          if (frames.length === 0) kscopeInit();
          var x0 = z._x, w0 = z._w, k = W / w0;
          frames.forEach(function (g) {
            if (g._d < z._d && g._x <= x0 + 1e-6 && g._x + g._w >= x0 + w0 - 1e-6) { place(g, 0, W); }
            else if (g._d >= z._d && g._x >= x0 - 1e-6 && g._x + g._w <= x0 + w0 + 1e-6) { place(g, (g._x - x0) * k, g._w * k); }
            else { g.style.display = 'none'; }
          });
          document.getElementById('kscope-reset').setAttribute('visibility', 'visible');
        }
        function kscopeReset() {
          if (frames.length === 0) kscopeInit();
          frames.forEach(function (g) { place(g, g._x, g._w); });
          document.getElementById('kscope-reset').setAttribute('visibility', 'hidden');
        }
        function kscopePrompt() { var t = prompt('Search frames (regex):', ''); if (t !== null) kscopeSearch(t); }
        function kscopeSearch(term) {
          if (frames.length === 0) kscopeInit();
          var re = null; try { re = term ? new RegExp(term) : null; } catch (e) { return; }
          var spans = [];
          frames.forEach(function (g) {
            var r = g.querySelector('rect');
            if (re && re.test(g._name)) { r.setAttribute('fill', 'rgb(230,0,230)'); spans.push([g._x, g._x + g._w]); }
            else { r.setAttribute('fill', g._fill); }
          });
          spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
          var covered = 0, end = -1;
          spans.forEach(function (s) { if (s[0] >= end) { covered += s[1] - s[0]; end = s[1]; } else if (s[1] > end) { covered += s[1] - end; end = s[1]; } });
          document.getElementById('kscope-matched').textContent = re ? 'Matched: ' + (100 * covered / W).toFixed(2) + '%' : '';
        }
        """;
}
