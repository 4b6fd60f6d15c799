using OrleansSynth.ML.Models;

namespace OrleansSynth.ML.Data;

/// <summary>
/// The images every model here takes: square, of one shape in the training and held-out splits, with a channel count
/// and a side the diffusion UNet accepts. Checked when a dataset is registered, so a run that could not train is
/// refused with the reason before its first stage, instead of failing minutes later inside a model.
/// </summary>
public static class ModelInputShape
{
    /// <exception cref="DatasetFormatException">The images do not have a shape the models take.</exception>
    public static void Check(string source, ImageDataset train, ImageDataset? heldOut = null)
    {
        var unet = new UNetConfig();
        var shape = $"{train.Channels}x{train.Height}x{train.Width} (channels x height x width)";
        if (train.Height != train.Width)
            throw new DatasetFormatException(
                source,
                $"images are {shape}; the models take square images: crop or pad them to a square first."
            );
        if (train.Channels > UNetConfig.MaxImageChannels)
            throw new DatasetFormatException(
                source,
                $"images are {shape}; the models take 1 to {UNetConfig.MaxImageChannels} channels."
            );
        if (train.Height % unet.SizeDivisor != 0)
            throw new DatasetFormatException(
                source,
                $"images are {shape}; their side must be a multiple of {unet.SizeDivisor} (the diffusion model "
                    + $"halves it {unet.ChannelMultipliers.Length - 1} times): pad or resize them."
            );
        if (
            heldOut is { Count: > 0 }
            && (heldOut.Channels, heldOut.Height, heldOut.Width) != (train.Channels, train.Height, train.Width)
        )
            throw new DatasetFormatException(
                source,
                $"the held-out split's images are {heldOut.Channels}x{heldOut.Height}x{heldOut.Width}, the training "
                    + $"split's {shape}: both splits must have one shape."
            );
    }
}
