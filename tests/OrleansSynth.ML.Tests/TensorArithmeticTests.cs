using OrleansSynth.ML.Models;
using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Tests;

/// <summary>
/// The held-scalar arithmetic replaces TorchSharp's operators only to keep scalars alive through the native calls:
/// every helper must give exactly what the operator gives, bit for bit and of the same type.
/// </summary>
public class TensorArithmeticTests
{
#pragma warning disable OS0001 // TorchSharp's operators are the reference the helpers must match.
    [Fact]
    public void EveryHelperMatchesTheOperatorItReplacesBitForBit()
    {
        var random = new Generator(11, CPU);
        using var scope = NewDisposeScope();
        var x = randn([64, 33], generator: random);
        var y = randn([64, 33], generator: random);
        var mask = rand([64, 33], generator: random).lt(TensorArithmetic.One);
        var pairs = new (string Name, Tensor Ours, Tensor Theirs)[]
        {
            ("Plus(Tensor)", x.Plus(y), x + y),
            ("Plus(double)", x.Plus(0.3), x + 0.3),
            ("Minus", x.Minus(0.3), x - 0.3),
            ("SubtractedFrom", x.SubtractedFrom(1.7), 1.7 - x),
            ("Times", x.Times(-2.5), x * -2.5),
            ("DividedBy", x.DividedBy(3.3), x / 3.3),
            ("LinearCombination", TensorArithmetic.LinearCombination(0.81, x, -0.37, y), 0.81 * x + -0.37 * y),
            ("Clamp", x.Clamp(-0.5, 0.75), x.clamp(-0.5, 0.75)),
            ("ClampInPlace", x.clone().ClampInPlace(-0.5, 0.75), x.clamp(-0.5, 0.75)),
            ("ClampMin", x.ClampMin(0.1), x.clamp_min(0.1)),
            ("MaskedFill", x.MaskedFill(mask, double.NegativeInfinity), x.masked_fill(mask, double.NegativeInfinity)),
            ("Squared", x.Squared(), x.square()),
            ("Range", TensorArithmetic.Range(9, float32, CPU), arange(9, dtype: float32)),
        };
        foreach (var (name, ours, theirs) in pairs)
        {
            Assert.True(ours.dtype == theirs.dtype, $"{name}: {ours.dtype} against {theirs.dtype}");
            Assert.True(Same(ours, theirs), $"{name} differs from the operator");
        }
    }

    [Fact]
    public void IntegerTensorsStayIntegers()
    {
        using var scope = NewDisposeScope();
        var counts = arange(5, dtype: int64);
        Assert.Equal(ScalarType.Int64, counts.Plus(3).dtype);
        Assert.Equal(ScalarType.Int64, counts.Times(2).dtype);
        Assert.Equal(new long[] { 3, 5, 7, 9, 11 }, counts.Times(2).Plus(3).data<long>().ToArray());
        var filled = TensorArithmetic.FullLike(counts, 10);
        Assert.Equal(ScalarType.Int64, filled.dtype);
        Assert.Equal(new long[] { 10, 10, 10, 10, 10 }, filled.data<long>().ToArray());
        Assert.Equal(new long[] { 4, 4, 4 }, TensorArithmetic.Full([3], 4, int64, CPU).data<long>().ToArray());
    }

    [Fact]
    public void BatchNormalizationTrainsAndEvaluatesAsTorchSharpsAndLoadsItsState()
    {
        using var ours = new BatchNormalization(6);
        using var theirs = nn.BatchNorm2d(6);
        Assert.Equal(theirs.state_dict().Keys, ours.state_dict().Keys);
        var random = new Generator(3, CPU);
        using (no_grad())
        {
            ours.weight.copy_(rand([6], generator: random));
            theirs.weight.copy_(ours.weight);
        }
        for (var step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            var input = randn([8, 6, 5, 5], generator: random).Times(3.0).Plus(1.0);
            Assert.True(Same(ours.forward(input), theirs.forward(input)), $"training step {step} differs");
        }
        Assert.Equal(3L, ours.num_batches_tracked!.item<long>());
        Assert.True(Same(ours.running_mean!, theirs.running_mean!), "running means differ");
        Assert.True(Same(ours.running_var!, theirs.running_var!), "running variances differ");
        ours.eval();
        theirs.eval();
        using (var scope = NewDisposeScope())
        {
            var input = randn([4, 6, 5, 5], generator: random);
            Assert.True(Same(ours.forward(input), theirs.forward(input)), "evaluation differs");
        }
        using var loaded = new BatchNormalization(6);
        loaded.load_state_dict(theirs.state_dict());
        Assert.Equal(3L, loaded.num_batches_tracked!.item<long>());
    }
#pragma warning restore OS0001

    private static bool Same(Tensor a, Tensor b)
    {
        using var equal = a.eq(b).all();
        return equal.item<bool>();
    }
}
