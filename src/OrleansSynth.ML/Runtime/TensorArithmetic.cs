using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Runtime;

/// <summary>
/// Tensor arithmetic with numbers, whose scalars outlive the native call. TorchSharp's operators and overloads such as
/// <c>x * 0.5</c>, <c>x + y</c> (an addition with alpha 1) or <c>clamp(0, 1)</c> turn each number into a temporary
/// <see cref="Scalar"/> and pass libtorch its handle; nothing references the object during the call, so a garbage
/// collection started by another thread can finalize it and free the native scalar while libtorch reads it. CI saw it
/// fail training runs ("Unknown scalar type"); reused memory could as well give a wrong number silently. Here every
/// scalar is a static field or a <c>using</c> local that is disposed only after the call returns. The OS0001 analyzer
/// (src/OrleansSynth.Analyzers) fails the build wherever a temporary scalar would be made.
/// </summary>
public static class TensorArithmetic
{
    /// <summary>The alpha of a plain addition. Static, so never finalized.</summary>
    public static readonly Scalar One = 1;

    /// <summary><c>left + right</c>.</summary>
    public static Tensor Plus(this Tensor left, Tensor right) => left.add(right, One);

    /// <summary><c>tensor + value</c>.</summary>
    public static Tensor Plus(this Tensor tensor, double value)
    {
        using Scalar held = value;
        return tensor.add(held, One);
    }

    /// <summary><c>tensor + value</c>, keeping an integer tensor integer (an <c>int</c> argument picks this
    /// one).</summary>
    public static Tensor Plus(this Tensor tensor, long value)
    {
        using Scalar held = value;
        return tensor.add(held, One);
    }

    /// <summary><c>tensor - value</c>.</summary>
    public static Tensor Minus(this Tensor tensor, double value)
    {
        using Scalar held = value;
        return tensor.sub(held);
    }

    /// <summary><c>value - tensor</c>.</summary>
    public static Tensor SubtractedFrom(this Tensor tensor, double value)
    {
        using Scalar held = value;
        return tensor.neg().add_(held, One);
    }

    /// <summary><c>tensor * value</c>.</summary>
    public static Tensor Times(this Tensor tensor, double value)
    {
        using Scalar held = value;
        return tensor.mul(held);
    }

    /// <summary><c>tensor * value</c>, keeping an integer tensor integer (an <c>int</c> argument picks this
    /// one).</summary>
    public static Tensor Times(this Tensor tensor, long value)
    {
        using Scalar held = value;
        return tensor.mul(held);
    }

    /// <summary><c>tensor / value</c>.</summary>
    public static Tensor DividedBy(this Tensor tensor, double value)
    {
        using Scalar held = value;
        return tensor.div(held);
    }

    /// <summary><c>a * x + b * y</c>, the step of every sampler, rounded as the operators would.</summary>
    public static Tensor LinearCombination(double a, Tensor x, double b, Tensor y)
    {
        using var scaledX = x.Times(a);
        using var scaledY = y.Times(b);
        return scaledX.add(scaledY, One);
    }

    /// <summary><c>tensor.clamp(min, max)</c>.</summary>
    public static Tensor Clamp(this Tensor tensor, double min, double max)
    {
        using Scalar heldMin = min,
            heldMax = max;
        return tensor.clamp(heldMin, heldMax);
    }

    /// <summary><c>tensor.clamp_(min, max)</c>, in place.</summary>
    public static Tensor ClampInPlace(this Tensor tensor, double min, double max)
    {
        using Scalar heldMin = min,
            heldMax = max;
        return tensor.clamp_(heldMin, heldMax);
    }

    /// <summary><c>tensor.clamp_min(min)</c>.</summary>
    public static Tensor ClampMin(this Tensor tensor, double min)
    {
        using Scalar held = min;
        return tensor.clamp_min(held);
    }

    /// <summary><c>tensor.masked_fill(mask, value)</c>.</summary>
    public static Tensor MaskedFill(this Tensor tensor, Tensor mask, double value)
    {
        using Scalar held = value;
        return tensor.masked_fill(mask, held);
    }

    /// <summary><c>tensor * tensor</c>: TorchSharp's <c>square()</c> is a <c>pow(2)</c> with a temporary
    /// exponent.</summary>
    public static Tensor Squared(this Tensor tensor) => tensor.mul(tensor);

    /// <summary><c>0, 1, ..., count - 1</c> as a 1-D tensor.</summary>
    public static Tensor Range(long count, ScalarType dtype, Device device)
    {
        using Scalar start = 0L,
            stop = count,
            step = 1L;
        return arange(start, stop, step, dtype, device);
    }

    /// <summary>A tensor shaped like <paramref name="like"/>, filled with <paramref name="value"/>.</summary>
    public static Tensor FullLike(Tensor like, long value)
    {
        using Scalar held = value;
        return full_like(like, held);
    }

    /// <summary>A tensor of <paramref name="shape"/> filled with <paramref name="value"/>.</summary>
    public static Tensor Full(long[] shape, long value, ScalarType dtype, Device device)
    {
        using Scalar held = value;
        return full(shape, held, dtype, device);
    }
}
