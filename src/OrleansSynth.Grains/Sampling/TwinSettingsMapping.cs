using OrleansSynth.Abstractions;
using OrleansSynth.ML.Diversity;

namespace OrleansSynth.Grains.Sampling;

/// <summary>The ML library's <see cref="TwinSettings"/> for a run's <see cref="DiversityOptions"/>.</summary>
internal static class TwinSettingsMapping
{
    public static TwinSettings ToTwinSettings(this DiversityOptions o) =>
        new(o.Candidates, o.Guidance, o.GuidanceStep, o.GuidanceFloor, o.LinkPenalty, o.TwinsPerRecord);
}
