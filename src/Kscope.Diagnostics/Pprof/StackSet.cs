using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Kscope.Formats.Pprof;

namespace Kscope.Diagnostics.Pprof;

/// <summary>
/// The stacks of a profile for one sample type, after focus/ignore filtering: each a list of
/// function names, leaf first, with its value. What top, tree, flame and diff work from.
/// </summary>
public sealed class StackSet
{
    private StackSet(SampleType type, List<(string[] Frames, long Value)> stacks, long total, long unfilteredTotal)
    {
        Type = type;
        Stacks = stacks;
        Total = total;
        UnfilteredTotal = unfilteredTotal;
    }

    public SampleType Type { get; }

    /// <summary>Leaf-first frames and the sample's value (identical stacks are merged).</summary>
    public IReadOnlyList<(string[] Frames, long Value)> Stacks { get; }

    /// <summary>Sum of the kept samples' values.</summary>
    public long Total { get; }

    /// <summary>Sum over all samples, before focus/ignore (percentages use it, as pprof does).</summary>
    public long UnfilteredTotal { get; }

    /// <param name="sampleIndex">null: the profile's default (the last type, or default_sample_type).</param>
    /// <param name="focus">keep only samples with a frame matching this.</param>
    /// <param name="ignore">drop samples with a frame matching this.</param>
    public static StackSet From(Profile profile, string? sampleIndex = null, Regex? focus = null, Regex? ignore = null)
    {
        if (profile.SampleTypes.Count == 0)
        {
            throw new InvalidDataException("the profile has no sample types (nothing to show)");
        }
        int index = profile.DefaultSampleIndex;
        if (sampleIndex is not null)
        {
            index = profile.SampleIndex(sampleIndex);
            if (index < 0)
            {
                throw new ArgumentException($"no sample type '{sampleIndex}' in the profile (it has: {string.Join(", ", profile.SampleTypes.Select(t => t.Type))})");
            }
        }
        var names = new FrameNames();
        var merged = new Dictionary<StackKey, long>();
        var frames = new List<string>();
        long total = 0, unfiltered = 0;
        var matchCache = new Dictionary<string, (bool Focus, bool Ignore)>(StringComparer.Ordinal);
        foreach (Sample s in profile.Samples)
        {
            if (index >= s.Values.Length)
            {
                throw new InvalidDataException($"a sample has {s.Values.Length} values but the profile declares {profile.SampleTypes.Count} sample types");
            }
            long v = s.Values[index];
            unfiltered += v;
            if (v == 0)
            {
                continue;
            }
            names.Stack(s, frames);
            if (focus is not null || ignore is not null)
            {
                bool focused = focus is null, ignored = false;
                foreach (string f in frames)
                {
                    if (!matchCache.TryGetValue(f, out var m))
                    {
                        m = (focus?.IsMatch(f) ?? false, ignore?.IsMatch(f) ?? false);
                        matchCache[f] = m;
                    }
                    focused |= m.Focus;
                    ignored |= m.Ignore;
                }
                if (!focused || ignored)
                {
                    continue;
                }
            }
            total += v;
            var key = new StackKey(frames.ToArray());
            CollectionsMarshal.GetValueRefOrAddDefault(merged, key, out _) += v;
        }
        return new StackSet(profile.SampleTypes[index], merged.Select(kv => (kv.Key.Frames, kv.Value)).ToList(), total, unfiltered);
    }

    private readonly struct StackKey(string[] frames) : IEquatable<StackKey>
    {
        private readonly int _hash = Hash(frames);

        public string[] Frames { get; } = frames;

        // Names come from one FrameNames, which interns them: compare and hash by reference.
        public bool Equals(StackKey other)
        {
            if (_hash != other._hash || Frames.Length != other.Frames.Length)
            {
                return false;
            }
            for (int i = 0; i < Frames.Length; i++)
            {
                if (!ReferenceEquals(Frames[i], other.Frames[i]))
                {
                    return false;
                }
            }
            return true;
        }

        public override bool Equals(object? obj) => obj is StackKey k && Equals(k);

        public override int GetHashCode() => _hash;

        private static int Hash(string[] frames)
        {
            var h = new HashCode();
            foreach (string f in frames)
            {
                h.Add(RuntimeHelpers.GetHashCode(f));
            }
            return h.ToHashCode();
        }
    }
}
