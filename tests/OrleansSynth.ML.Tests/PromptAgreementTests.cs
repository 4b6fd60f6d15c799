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
                [.. Enumerable.Range(0, count).Select(i => $"{name}-{i}")]
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

        var follows = PromptAgreement.Measure(training, following, CPU);
        var contrary = PromptAgreement.Measure(training, opposite, CPU);
        // Three words a prompt: its class's, which the images do not show (held by half the neighbours), "and" (by
        // all) and its brightness (by all when followed, none when not, half for a same-label prompt).
        Assert.InRange(follows.Own, 0.80, 0.87);
        Assert.InRange(follows.Lift, 0.12, 0.21);
        Assert.InRange(contrary.Own, 0.45, 0.55);
        Assert.InRange(contrary.Lift, -0.21, -0.12);
        Assert.Equal(40, follows.Scored);
        Assert.Equal(39, PromptAgreement.Measure(training, rare, CPU).Scored);
    }
}
