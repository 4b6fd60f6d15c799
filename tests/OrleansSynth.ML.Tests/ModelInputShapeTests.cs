using OrleansSynth.ML.Data;

namespace OrleansSynth.ML.Tests;

public class ModelInputShapeTests
{
    private static ImageDataset Images(int count, int channels, int height, int width) =>
        new(
            "shapes",
            new byte[count * channels * height * width],
            channels,
            height,
            width,
            new long[count],
            Enumerable.Range(0, count).Select(i => $"r{i}").ToArray()
        );

    [Theory]
    [InlineData(1, 28)]
    [InlineData(3, 32)]
    [InlineData(4, 64)]
    public void SquareImagesOfOneShapeInBothSplitsAreTaken(int channels, int side) =>
        ModelInputShape.Check("ok.npz", Images(3, channels, side, side), Images(2, channels, side, side));

    [Theory]
    [InlineData(1, 28, 40, 1, 28, 40, "square")]
    [InlineData(1, 30, 30, 1, 30, 30, "multiple of 4")]
    [InlineData(5, 28, 28, 5, 28, 28, "1 to 4 channels")]
    [InlineData(1, 28, 28, 3, 28, 28, "3x28x28")]
    [InlineData(1, 28, 28, 1, 32, 32, "one shape")]
    public void AnyOtherShapeIsRefusedNamingTheDatasetAndTheReason(
        int c,
        int h,
        int w,
        int testC,
        int testH,
        int testW,
        string reason
    )
    {
        var refused = Assert.Throws<DatasetFormatException>(() =>
            ModelInputShape.Check("scans.npz", Images(3, c, h, w), Images(2, testC, testH, testW))
        );
        Assert.Equal("scans.npz", refused.Path);
        Assert.Contains(reason, refused.Message);
    }
}
