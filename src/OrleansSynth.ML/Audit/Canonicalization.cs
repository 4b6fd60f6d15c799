using OrleansSynth.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSynth.ML.Audit;

/// <summary>
/// Puts images in a canonical pose before they are embedded: the intensity centroid moved to the centre (by a
/// sub-pixel shift) and intensities standardised per image. Shifted or re-exposed copies of a record then
/// look alike before the encoder sees them, so the encoder can spend its capacity telling records apart.
/// </summary>
public static class Canonicalization
{
    /// <summary>[B,C,H,W] in [-1, 1] to centred, standardised images of the same shape.</summary>
    /// <param name="blur">Gaussian blur sigma in pixels applied after centring (0: none): evens out noise and blur
    /// differences between copies.</param>
    public static Tensor Apply(Tensor images, double blur = 0)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (b, h, w) = (images.shape[0], images.shape[2], images.shape[3]);
        // Mass above the background level (a low quantile), so a brightness offset does not pull the centroid.
        var grey = images.mean([1]); // [B,H,W]
        var flat = grey.view(b, -1);
        var background = flat.kthvalue(Math.Max(1, (int)(flat.shape[1] / 10)), 1).values.view(b, 1, 1);
        var mass = (grey - background).ClampMin(0);
        var total = mass.sum([1, 2]).ClampMin(1e-6);
        var ys = TensorArithmetic.Range(h, float32, images.device).view(1, h, 1);
        var xs = TensorArithmetic.Range(w, float32, images.device).view(1, 1, w);
        var cy = (mass * ys).sum([1, 2]) / total;
        var cx = (mass * xs).sum([1, 2]) / total;
        // Sub-pixel shift that moves the centroid exactly to the centre: a copy shifted by whole pixels then lands on
        // the very same canonical image (bar what fell off the edge), where rounding the shift could leave a pixel.
        var dy = cy.Minus((h - 1) / 2.0);
        var dx = cx.Minus((w - 1) / 2.0);
        var theta = zeros(b, 2, 3, device: images.device);
        theta[.., 0, 0] = ones(b, device: images.device);
        theta[.., 1, 1] = ones(b, device: images.device);
        theta[.., 0, 2] = dx.Times(2.0).DividedBy(w);
        theta[.., 1, 2] = dy.Times(2.0).DividedBy(h);
        var grid = nn.functional.affine_grid(theta, [b, images.shape[1], h, w], align_corners: false);
        var centred = nn.functional.grid_sample(
            images.Plus(1),
            grid,
            GridSampleMode.Bilinear,
            GridSamplePaddingMode.Zeros,
            align_corners: false
        );
        if (blur > 0)
            centred = NearCopyPerturbations.Blur(centred, blur);
        var mean = centred.mean([1, 2, 3], keepdim: true);
        var std = centred.std([1, 2, 3], keepdim: true).ClampMin(1e-3);
        return ((centred - mean) / std).MoveToOuterDisposeScope();
    }
}
