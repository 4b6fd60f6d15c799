using OrleansSynth.ML.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Training;

/// <summary>
/// A bfloat16 copy of a training model that computes each step's forward and backward passes, while the 32-bit model
/// keeps the weights the optimiser updates, the EMA follows and checkpoints hold (bfloat16's 8-bit mantissa would round
/// away Adam's small updates). The whole network is converted, so no casts sit between its group normalisations and
/// convolutions; <see cref="UNet.Predict"/> returns 32-bit floats, so the loss is computed in them.
/// </summary>
public sealed class BFloat16WorkingCopy : IDisposable
{
    private readonly UNet master;

    public BFloat16WorkingCopy(UNet master, Device device)
    {
        this.master = master;
        Model = new UNet(master.Config);
        Model.to(device);
        Model.to(ScalarType.BFloat16);
    }

    /// <summary>The network to run the step on.</summary>
    public UNet Model { get; }

    /// <summary>Rounds the master's current weights into the copy and clears the copy's gradients.</summary>
    public void Refresh()
    {
        using var noGrad = no_grad();
        var weights = master.state_dict();
        foreach (var (name, tensor) in Model.state_dict())
            tensor.copy_(weights[name]);
        Model.zero_grad();
    }

    /// <summary>Hands the copy's gradients to the master's parameters, in 32-bit floats.</summary>
    public void PassGradients()
    {
        using var noGrad = no_grad();
        foreach (var (target, source) in master.parameters().Zip(Model.parameters()))
        {
            if (source.grad is not { } gradient)
                continue;
            if (target.grad is { } existing)
                existing.copy_(gradient);
            else
                // The parameter keeps its own reference; the step's dispose scope frees this wrapper.
                target.grad = gradient.to(ScalarType.Float32);
        }
    }

    public void Dispose() => Model.Dispose();
}
