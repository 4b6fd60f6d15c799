using OrleansSynth.ML.Data;
using OrleansSynth.ML.Evaluation;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>The report's prompt agreement, on images whose one property is what their reports say.</summary>
public class PromptAgreementTests
{
    /// <summary>
    /// Two classes of noisy 8 x 8 images that look alike, half of each bright and half dark, each reported as such in
    /// the words of its class. Images that follow their prompts lift the measure; images that show the opposite sink it
    /// by as much; a word of one report is not read.
    /// </summary>
    [Fact]
    public void ImagesThatFollowTheirPromptsLiftItAndImagesThatDoNotSinkIt()
    {
        var random = new Random(5);
        ImageDataset Images(string name, int count, Func<int, bool> bright, Func<int, string> report)
        {
            var pixels = new byte[count * 64];
            for (var i = 0; i < count; i++)
            for (var p = 0; p < 64; p++)
                pixels[i * 64 + p] = (byte)((bright(i) ? 190 : 60) + random.Next(-40, 41));
            return new ImageDataset(
                name,
                pixels,
                1,
                8,
                8,
                [.. Enumerable.Range(0, count).Select(i => (long)(i % 2))],
                [.. Enumerable.Range(0, count).Select(i => $"{name}-{i}")],
                // One patient a record: four distinct reports, each of many patients.
                [.. Enumerable.Range(0, count).Select(i => $"{name}-patient-{i}")]
            )
            {
                Reports = [.. Enumerable.Range(0, count).Select(report)],
            };
        }
        static string Words(int i, bool bright) =>
            $"{(i % 2 == 0 ? "round" : "square")} and {(bright ? "bright" : "dark")}";

        var training = Images("train", 200, i => i / 2 % 2 == 0, i => Words(i, i / 2 % 2 == 0));
        var following = Images("following", 40, i => i / 2 % 2 == 0, i => Words(i, i / 2 % 2 == 0));
        var opposite = Images("opposite", 40, i => i / 2 % 2 == 1, i => Words(i, i / 2 % 2 == 0));
        var rare = Images("rare", 40, _ => true, i => i == 0 ? "zebulon" : Words(i, true));

        using var reader = PromptReader.For(training, CPU)!;
        var follows = reader.Score(following)!;
        var contrary = reader.Score(opposite)!;
        // Three words a prompt: its class's, which the images do not show (held by half the neighbours), "and" (by
        // all) and its brightness (by all when followed, none when not, half for a same-label prompt).
        Assert.InRange(follows.Own, 0.80, 0.87);
        Assert.InRange(follows.Lift, 0.12, 0.21);
        Assert.InRange(contrary.Own, 0.45, 0.55);
        Assert.InRange(contrary.Lift, -0.21, -0.12);
        Assert.Equal(40, follows.Scored);
        Assert.Equal(39, reader.Score(rare)!.Scored);
    }

    /// <summary>A word of one patient's reports is not read however many reports hold it; fewer than ten scored
    /// images, or ten or fewer training records, give no number.</summary>
    [Fact]
    public void AOnePatientsWordIsNotReadAndTooFewImagesGiveNoNumber()
    {
        ImageDataset Records(int count, Func<int, string> report, Func<int, string> patient) =>
            new(
                "records",
                new byte[count * 16],
                1,
                4,
                4,
                new long[count],
                [.. Enumerable.Range(0, count).Select(i => $"r{i}")],
                [.. Enumerable.Range(0, count).Select(patient)]
            )
            {
                Reports = [.. Enumerable.Range(0, count).Select(report)],
            };
        // Twelve reports of one patient name "quartermaine"; "effusion" is in every patient's.
        var training = Records(
            40,
            i => i < 12 ? $"a quartermaine effusion {i}" : $"a effusion {i}",
            i => $"p{Math.Max(0, i - 11)}"
        );
        using var reader = PromptReader.For(training, CPU)!;
        // "so" is no training report's word: these prompts' only words are the patient's and "effusion".
        Assert.Null(reader.Score(Records(12, _ => "so quartermaine", i => $"q{i}")));
        Assert.Equal(12, reader.Score(Records(12, _ => "so quartermaine effusion", i => $"q{i}"))!.Scored);
        Assert.Null(reader.Score(Records(9, _ => "so effusion", i => $"q{i}")));
        Assert.Null(PromptReader.For(Records(10, _ => "a effusion", i => $"p{i}"), CPU));
    }
}
