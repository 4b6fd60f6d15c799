using OrleansSynth.ML.Data;
using OrleansSynth.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// A trained <see cref="PairVerifier"/> with its calibrated threshold: a sample is flagged when the verifier's logit
/// for it and its nearest real record (under the encoder) is strictly above the threshold, which flags at most alpha of
/// held-out real images against their own nearest records.
/// </summary>
public sealed class PairVerifierModel : IDisposable
{
    private const string Magic = "ORLEANSSYNTH-PAIR-VERIFIER-1";

    /// <param name="EncoderFingerprint">The encoder whose nearest records the verifier learned to judge.</param>
    public sealed record Metadata(
        PairVerifierConfig Config,
        int Channels,
        int ImageSize,
        string EncoderFingerprint,
        ThresholdCalibration? Calibration,
        string? CalibrationKey = null
    );

    public PairVerifierModel(PairVerifier verifier, Metadata info)
    {
        Verifier = verifier;
        Info = info;
    }

    public PairVerifier Verifier { get; }
    public Metadata Info { get; private set; }

    public ThresholdCalibration Calibration =>
        Info.Calibration ?? throw new InvalidOperationException("The pair verifier has not been calibrated.");

    public void SetCalibration(ThresholdCalibration calibration, string calibrationKey) =>
        Info = Info with { Calibration = calibration, CalibrationKey = calibrationKey };

    /// <summary>The verifier's logit for each query and the real record at the same position of <paramref
    /// name="records"/>.</summary>
    public float[] Scores(ImageDataset queries, ImageDataset real, IReadOnlyList<int> records)
    {
        if (records.Count != queries.Count)
            throw new ArgumentException($"{records.Count} records for {queries.Count} queries.");
        var all = Enumerable.Range(0, queries.Count).ToArray();
        return Verifier.Score(
            (start, count) =>
                (
                    queries.Batch(all[start..(start + count)]).Images,
                    real.Batch(records.Skip(start).Take(count).ToArray()).Images
                ),
            queries.Count
        );
    }

    public void Save(string path) => ModelCheckpoint<Metadata>.Save(path, Magic, Info, Verifier, optimizer: null);

    public static PairVerifierModel Load(string path, Device? device = null)
    {
        var info = ModelCheckpoint<Metadata>.ReadHeader(path, Magic);
        var verifier = new PairVerifier(info.Config, info.Channels, info.ImageSize);
        ModelCheckpoint<Metadata>.Load(path, Magic, verifier, optimizer: null);
        if (device is not null)
            verifier.to(device);
        verifier.eval();
        return new PairVerifierModel(verifier, info);
    }

    public void Dispose() => Verifier.Dispose();
}
