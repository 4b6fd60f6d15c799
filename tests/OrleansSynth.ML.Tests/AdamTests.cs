using OrleansSynth.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// Our Adam replaces TorchSharp's only to keep its scalars alive through the native calls: it must take exactly the
/// same steps, bit for bit, under a changing learning rate, and save the same state, so checkpoints from either resume
/// on the other.
/// </summary>
public class AdamTests
{
    [Fact]
    public void TakesBitIdenticalStepsToTorchSharpsAdamAndSavesTheSameState()
    {
        using var ours = Model();
        using var theirs = Model();
        // The same starting weights (other tests draw from the global generator in parallel, so not by seeding it).
        using (no_grad())
            foreach (var ((_, a), (_, b)) in ours.named_parameters().Zip(theirs.named_parameters()))
                b.copy_(a);
        using var initial = ours.named_parameters().First().parameter.detach().clone();
        using var ourOptimizer = new Training.Adam(ours.parameters(), 3e-3);
#pragma warning disable OS0001 // TorchSharp's Adam is the reference ours must match.
        using var theirOptimizer = optim.Adam(theirs.parameters(), lr: 3e-3);
#pragma warning restore OS0001
        var random = new Generator(7, CPU);
        for (var step = 0; step < 25; step++)
        {
            using var scope = NewDisposeScope();
            var input = randn([16, 8], generator: random);
            var target = randn([16, 2], generator: random);
            var rate = LearningRateSchedule.Cosine(3e-3, step, 25);
            foreach (
                var (model, optimizer) in new (nn.Module<Tensor, Tensor>, optim.Optimizer)[]
                {
                    (ours, ourOptimizer),
                    (theirs, theirOptimizer),
                }
            )
            {
                LearningRateSchedule.Apply((TorchSharp.Modules.OptimizerHelper)optimizer, rate);
                optimizer.zero_grad();
                nn.functional.mse_loss(model.forward(input), target).backward();
                optimizer.step();
            }
        }

        foreach (var ((name, a), (_, b)) in ours.named_parameters().Zip(theirs.named_parameters()))
            Assert.True(a.eq(b).all().item<bool>(), $"{name} differs after 25 steps");
        Assert.Equal(Saved(theirOptimizer), Saved(ourOptimizer));
        Assert.False(
            ours.named_parameters().First().parameter.eq(initial).all().item<bool>(),
            "the steps changed nothing"
        );
    }

    private static nn.Module<Tensor, Tensor> Model() => nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 2));

    private static byte[] Saved(optim.Optimizer optimizer)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
        return stream.ToArray();
    }
}
