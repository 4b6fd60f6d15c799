using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A spec stored before the verifier's keys existed, as grain storage reads it after an upgrade: those fields are
/// missing from its bytes and read as 0, which no valid spec holds; the grains read them as the keys' defaults.
/// </summary>
public sealed class StoredSpecTests
{
    private readonly Serializer _serializer = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(StoredSpecTests).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    [Fact]
    public void AnAuditSpecStoredBeforeTheVerifierKeysReadsThemAsTheirDefaults()
    {
        IReadOnlyList<ArtifactRef> bundles = [new ArtifactRef(new string('a', 64), 100, "samples")];
        var old = new AuditSpecBeforeTheVerifierKeys("fashion-mnist", bundles, 0.02, 5, 64, 512, 1000, 200, 4000);
        var stored = _serializer.Deserialize<AuditSpec>(_serializer.SerializeToArray(old))!;

        Assert.Equal((0, 0), (stored.VerifierBatch, stored.VerifierLookAlikes));
        Assert.Equal(bundles, stored.SampleBundles);
        // As submitted then: the defaults of the day, the batch's 128 and the look-alikes' 8.
        Assert.Equal(
            new AuditSpec("fashion-mnist", bundles, 0.02, 5, 64, 512, 1000, 200, 4000),
            stored.WithMissingKeysDefaulted() with
            {
                SampleBundles = bundles,
            }
        );
    }

    [Fact]
    public void APipelineSpecsMissingVerifierKeysReadAsTheirDefaultsAndSetOnesAreKept()
    {
        var run = new TrainingRunSpec("", Steps: 10);
        var submitted = new PipelineSpec(
            "fashion-mnist",
            run,
            run,
            10,
            5,
            new PipelinePolicy(5, RequireApproval: true),
            "out"
        );
        Assert.Equal(
            submitted,
            (submitted with { VerifierBatch = 0, VerifierLookAlikes = 0 }).WithMissingKeysDefaulted()
        );
        var set = submitted with { VerifierBatch = 64, VerifierLookAlikes = 2 };
        Assert.Equal(set, set.WithMissingKeysDefaulted());
    }
}

/// <summary><see cref="AuditSpec"/> as it was stored before its fields 9 and 10.</summary>
[GenerateSerializer]
public sealed record AuditSpecBeforeTheVerifierKeys(
    [property: Id(0)] string Dataset,
    [property: Id(1)] IReadOnlyList<ArtifactRef> SampleBundles,
    [property: Id(2)] double Alpha,
    [property: Id(3)] int TopK,
    [property: Id(4)] int SyntheticTile,
    [property: Id(5)] int RealTile,
    [property: Id(6)] int EncoderSteps,
    [property: Id(7)] int Canaries,
    [property: Id(8)] int VerifierSteps
);
