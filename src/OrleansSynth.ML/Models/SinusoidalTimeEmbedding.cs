using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>Transformer-style sinusoidal embedding of the diffusion timestep, then a two-layer MLP.</summary>
public sealed class SinusoidalTimeEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly int _frequencyDim;
    private readonly nn.Module<Tensor, Tensor> mlp;

    public SinusoidalTimeEmbedding(int frequencyDim, int outputDim)
        : base(nameof(SinusoidalTimeEmbedding))
    {
        _frequencyDim = frequencyDim;
        mlp = nn.Sequential(nn.Linear(frequencyDim, outputDim), nn.SiLU(), nn.Linear(outputDim, outputDim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var half = _frequencyDim / 2;
        var exponent = TensorArithmetic
            .Range(half, float32, timesteps.device)
            .Times(-Math.Log(10000.0))
            .DividedBy(half);
        var angles = timesteps.to_type(float32).unsqueeze(1) * exp(exponent).unsqueeze(0);
        var features = cat([sin(angles), cos(angles)], dim: 1).to(mlp.parameters().First().dtype);
        return mlp.forward(features).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            mlp.Dispose();
        base.Dispose(disposing);
    }
}
