namespace OrleansSynth.Benchmarks;

/// <summary>
/// A near-copy with several small changes at once, by plain pixel arithmetic (independent of the audit's own
/// perturbation code, so it can test it): crop and resize, rotation, shift, blur, gain and offset, noise. 28x28 grey.
/// </summary>
public static class HandMadeNearCopy
{
    public static byte[] Make(byte[] source, Random random, bool exact = false)
    {
        if (exact)
            return source;
        const int n = 28;
        var image = source.Select(v => (double)v).ToArray();
        // Crop a pixel off one or two sides and resize back, rotate up to 3 degrees and shift up to 2 pixels, in one
        // resampling.
        var (left, top, right, bottom) = (random.Next(2), random.Next(2), 0, 0);
        var angle = (random.NextDouble() * 2 - 1) * 3 * Math.PI / 180;
        var (dx, dy) = (random.Next(-2, 3), random.Next(-2, 3));
        var (sx, sy) = ((n - left - right) / (double)n, (n - top - bottom) / (double)n);
        var resampled = new double[n * n];
        for (var y = 0; y < n; y++)
        for (var x = 0; x < n; x++)
        {
            var (cx, cy) = (x - dx - (n - 1) / 2.0, y - dy - (n - 1) / 2.0);
            var (rx, ry) = (Math.Cos(angle) * cx + Math.Sin(angle) * cy, -Math.Sin(angle) * cx + Math.Cos(angle) * cy);
            var (u, v) = (left + (rx + (n - 1) / 2.0) * sx, top + (ry + (n - 1) / 2.0) * sy);
            resampled[y * n + x] = Bilinear(image, n, u, v);
        }
        // A 3x3 blur on half of them.
        if (random.Next(2) == 0)
            resampled = BoxBlur(resampled, n);
        var gain = 0.92 + random.NextDouble() * 0.16;
        var offset = random.NextDouble() * 16 - 8;
        var sigma = 2 + random.NextDouble() * 4;
        return resampled
            .Select(v => (byte)Math.Clamp(Math.Round(v * gain + offset + sigma * Gaussian(random)), 0, 255))
            .ToArray();
    }

    private static double Bilinear(double[] image, int n, double u, double v)
    {
        double At(int x, int y) => x >= 0 && x < n && y >= 0 && y < n ? image[y * n + x] : 0;
        var (x0, y0) = ((int)Math.Floor(u), (int)Math.Floor(v));
        var (fx, fy) = (u - x0, v - y0);
        return At(x0, y0) * (1 - fx) * (1 - fy)
            + At(x0 + 1, y0) * fx * (1 - fy)
            + At(x0, y0 + 1) * (1 - fx) * fy
            + At(x0 + 1, y0 + 1) * fx * fy;
    }

    private static double[] BoxBlur(double[] image, int n)
    {
        var result = new double[n * n];
        for (var y = 0; y < n; y++)
        for (var x = 0; x < n; x++)
        {
            var (sum, count) = (0.0, 0);
            for (var j = -1; j <= 1; j++)
            for (var i = -1; i <= 1; i++)
                if (x + i >= 0 && x + i < n && y + j >= 0 && y + j < n)
                {
                    sum += image[(y + j) * n + x + i];
                    count++;
                }
            result[y * n + x] = sum / count;
        }
        return result;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
