using Orleans.Metadata;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace OrleansSynth.Grains.Placement;

/// <summary>
/// Places heavy grains (training, sampling, scan tiles) on silos that advertise a GPU in their metadata when any
/// exist, else anywhere; the grain's placement strategy then chooses among those.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class PreferGpuSilosAttribute() : PlacementFilterAttribute(new PreferGpuSilosStrategy());

public sealed class PreferGpuSilosStrategy() : PlacementFilterStrategy(order: 0)
{
    /// <summary>Silo metadata key a silo sets to "true" when it has a GPU.</summary>
    public const string GpuMetadataKey = "orleanssynth.gpu";
}

internal sealed class PreferGpuSilosDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(
        PlacementFilterStrategy filterStrategy,
        PlacementTarget target,
        IEnumerable<SiloAddress> silos
    )
    {
        var candidates = silos.ToList();
        var gpu = candidates.Where(HasGpu).ToList();
        return gpu.Count > 0 ? gpu : candidates;
    }

    private bool HasGpu(SiloAddress silo) =>
        metadata.GetSiloMetadata(silo) is { } m
        && m.Metadata.TryGetValue(PreferGpuSilosStrategy.GpuMetadataKey, out var value)
        && value == "true";
}
