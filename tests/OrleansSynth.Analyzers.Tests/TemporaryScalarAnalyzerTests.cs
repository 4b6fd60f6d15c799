using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace OrleansSynth.Analyzers.Tests;

public sealed class TemporaryScalarAnalyzerTests
{
    [Theory]
    [InlineData("var z = x * 0.5;")]
    [InlineData("var z = 2 * x;")]
    [InlineData("var z = x / 3;")]
    [InlineData("var z = x - 1.0;")]
    [InlineData("var z = x + y;")]
    [InlineData("var z = x; z += y;")]
    [InlineData("var z = Held - x;")]
    [InlineData("var z = x.add(y);")]
    [InlineData("var z = x.add_(Held);")]
    [InlineData("var z = x.addcdiv(y, y);")]
    [InlineData("var z = x.masked_fill(mask, 0.0);")]
    [InlineData("var z = x.clamp(0, 1);")]
    [InlineData("var z = x.mul((Scalar)0.5);")]
    [InlineData("Scalar s = 0.5; var z = x.mul(s);")]
    [InlineData("var z = x.mul(0.5.ToScalar());")]
    [InlineData("var z = x.square();")]
    [InlineData("var z = arange(10);")]
    [InlineData("var f = x.ToSingle();")]
    [InlineData("var f = (float)x;")]
    [InlineData("var bn = nn.BatchNorm2d(4);")]
    [InlineData("var act = nn.functional.leaky_relu(x);")]
    [InlineData("var o = optim.SGD(nn.Linear(2, 2).parameters(), 0.1);")]
    public void FlagsATemporaryScalar(string statements) =>
        Assert.Contains(Diagnose(statements), d => d.Id == TemporaryScalarAnalyzer.DiagnosticId);

    [Theory]
    [InlineData("using Scalar s = 0.5; var z = x.mul(s);")]
    [InlineData("using (Scalar s = 0.5) { var z = x.mul(s); }")]
    [InlineData("using Scalar a = 0.5, b = 2; var z = x.mul(a).add(y, b);")]
    [InlineData("var z = x.mul(Held);")]
    [InlineData("var z = x.add(y, Held);")]
    [InlineData("var z = x - y;")]
    [InlineData("var z = x * y / y;")]
    [InlineData("var z = -x;")]
    [InlineData("var f = x.item<float>();")]
    [InlineData("using var t = x.ToScalar(); var z = y.mul(t);")]
    [InlineData("var c = nn.Conv2d(1, 4, 3); var g = nn.GroupNorm(2, 4); var z = nn.functional.silu(x);")]
    [InlineData("using Scalar a = 0L, b = 5L, c = 1L; var z = arange(a, b, c);")]
    public void AcceptsAHeldScalar(string statements) => Assert.Empty(Diagnose(statements));

    [Fact]
    public void TheMessageSaysWhatToDoInstead()
    {
        var diagnostic = Assert.Single(Diagnose("var z = x + y;"));
        Assert.Contains("TensorArithmetic.Plus", diagnostic.GetMessage());
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
    }

    private static ImmutableArray<Diagnostic> Diagnose(string statements)
    {
        var source = $$"""
            using TorchSharp;
            using static TorchSharp.torch;

            static class Snippet
            {
                private static readonly Scalar Held = 0.5;

                static void Run(Tensor x, Tensor y, Tensor mask)
                {
                    {{statements}}
                }
            }
            """;
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [CSharpSyntaxTree.ParseText(source)],
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
        );
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(
            errors.Length == 0,
            "The snippet does not compile: " + string.Join("; ", errors.Select(e => e.ToString()))
        );
        return compilation
            .WithAnalyzers([new TemporaryScalarAnalyzer()])
            .GetAnalyzerDiagnosticsAsync()
            .GetAwaiter()
            .GetResult();
    }

    private static readonly MetadataReference[] References = (
        (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!
    )
        .Split(Path.PathSeparator)
        .Append(typeof(TorchSharp.torch).Assembly.Location)
        .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
        .ToArray();
}
