using System.Text.Json;
using OrleansSynth.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// A trained re-identification encoder together with what makes its verdicts trustworthy: the calibrated
/// threshold (with alpha and sample sizes), its verification AUC on held-out pairs, and what it was trained on.
/// </summary>
public sealed class ReidentificationModel : IDisposable
{
    private const string Magic = "ORLEANSSYNTH-REID-MODEL-2";

    public ReidentificationModel(ReidentificationEncoder encoder, Metadata info)
    {
        Encoder = encoder;
        Info = info;
    }

    /// <param name="TrainingFingerprint">Content fingerprint of the real training records the encoder learned
    /// from.</param>
    /// <param name="VerificationAuc">ROC AUC separating same-record pairs from different-record pairs, held-out images
    /// only.</param>
    public sealed record Metadata(
        ReidentificationEncoderConfig Config,
        string TrainingFingerprint,
        int TrainingRecords,
        double VerificationAuc,
        int VerificationPairs,
        ThresholdCalibration? Calibration,
        double FinalLoss,
        string? CalibrationKey = null,
        LinkRule? Link = null
    );

    public ReidentificationEncoder Encoder { get; }
    public Metadata Info { get; private set; }

    public ThresholdCalibration Calibration =>
        Info.Calibration ?? throw new InvalidOperationException("The re-identification model has not been calibrated.");

    /// <summary>The encoder's verdict rule (similarity or contrast), calibrated with <see
    /// cref="Calibration"/>.</summary>
    public LinkRule Link =>
        Info.Link ?? throw new InvalidOperationException("The re-identification model has no calibrated link rule.");

    /// <param name="calibration">The similarity threshold alone at alpha: the singling-out predicate and a twin's link
    /// to its source.</param>
    /// <param name="link">The audit's verdict rule.</param>
    /// <param name="calibrationKey">Identifies the held-out set and alpha the thresholds came from.</param>
    public void SetCalibration(ThresholdCalibration calibration, LinkRule link, string calibrationKey) =>
        Info = Info with { Calibration = calibration, Link = link, CalibrationKey = calibrationKey };

    public void SetVerification(double auc, int pairs) =>
        Info = Info with { VerificationAuc = auc, VerificationPairs = pairs };

    /// <summary>Identifies these exact weights and settings, e.g. to key cached embeddings.</summary>
    public string Fingerprint =>
        Convert.ToHexStringLower(
            System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(
                    JsonSerializer.Serialize(
                        Info with
                        {
                            Calibration = null,
                            Link = null,
                            CalibrationKey = null,
                            VerificationAuc = 0,
                            VerificationPairs = 0,
                        },
                        DiffusionCheckpoint.JsonOptions
                    )
                )
            )
        )[..16];

    public void Save(string path) => ModelCheckpoint<Metadata>.Save(path, Magic, Info, Encoder, optimizer: null);

    public static ReidentificationModel Load(string path, Device? device = null)
    {
        var info = ModelCheckpoint<Metadata>.ReadHeader(path, Magic);
        var encoder = new ReidentificationEncoder(info.Config);
        ModelCheckpoint<Metadata>.Load(path, Magic, encoder, optimizer: null);
        if (device is not null)
            encoder.to(device);
        encoder.eval();
        return new ReidentificationModel(encoder, info);
    }

    public void Dispose() => Encoder.Dispose();
}
