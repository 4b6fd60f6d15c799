using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace OrleansSynth.Analyzers;

/// <summary>
/// Finds TorchSharp calls that pass libtorch a temporary <c>TorchSharp.Scalar</c>. TorchSharp hands native code the
/// scalar's handle and keeps no reference to the object, so a garbage collection started by any other thread can run
/// its finalizer, which frees the native scalar while libtorch still reads it: the call then fails ("Unknown scalar
/// type", "Expected false to be true" from c10::Scalar) or, if the memory was reused, computes with a wrong value. Both
/// were seen in CI (dotnet/TorchSharp pull requests 1434 and 1496 are open on it). A scalar held by a <c>using</c>
/// local or a field lives until the call returns. Besides conversions written in our code, the checks name the
/// TorchSharp members that make such a temporary inside (found by reading TorchSharp 0.107's IL for calls that create a
/// Scalar).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TemporaryScalarAnalyzer : DiagnosticAnalyzer
{
    public const string DiagnosticId = "OS0001";

    private static readonly DiagnosticDescriptor Rule = new(
        DiagnosticId,
        title: "Temporary TorchSharp Scalar",
        messageFormat: "{0} makes a temporary TorchSharp Scalar that its finalizer can free while libtorch reads "
            + "it; {1}",
        category: "Reliability",
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Hold the scalar in a using local or a static readonly field and pass that (see "
            + "TensorArithmetic in OrleansSynth.ML)."
    );

    private const string Hold = "hold it in a using local or a static readonly field and pass that";

    /// <summary>Members whose implementation converts a number to a Scalar it does not keep, whatever the
    /// arguments.</summary>
    internal static readonly Dictionary<string, string> MembersMakingScalars = new()
    {
        ["square"] = "use pow with a held exponent, or multiply the tensor by itself",
        ["ToScalar"] = "use item<T>()",
        ["ToSingle"] = "use item<float>()",
        ["ToDouble"] = "use item<double>()",
        ["ToHalf"] = "use item<T>()",
        ["ToBFloat16"] = "use item<T>()",
        ["ToInt16"] = "use item<short>()",
        ["ToInt32"] = "use item<int>()",
        ["ToInt64"] = "use item<long>()",
        ["ToByte"] = "use item<byte>()",
        ["ToSByte"] = "use item<sbyte>()",
        ["ToBoolean"] = "use item<bool>()",
        ["ToComplex32"] = "use item<T>()",
        ["ToComplex64"] = "use item<T>()",
        ["ToComplexFloat32"] = "use item<T>()",
        ["ToComplexFloat64"] = "use item<T>()",
        ["tolist"] = "use data<T>()",
        ["vector_norm"] = "compute the norm from held scalars",
        ["matrix_norm"] = "compute the norm from held scalars",
        ["histogram"] = "count with held scalars",
        ["fuse_conv_bn_weights"] = "fold the weights with held scalars",
        ["fuse_linear_bn_weights"] = "fold the weights with held scalars",
        ["fuse_linear_bn_eval"] = "fold the weights with held scalars",
        ["leaky_relu"] = "write the activation with held scalars",
        ["hardtanh"] = "use clamp with held bounds",
        ["softplus"] = "write the activation with held scalars",
        ["elu"] = "write the activation with held scalars",
        ["elu_"] = "write the activation with held scalars",
        ["celu"] = "write the activation with held scalars",
        ["celu_"] = "write the activation with held scalars",
        ["mish"] = "write the activation with held scalars",
        ["softsign"] = "write the activation with held scalars",
        ["threshold"] = "write the activation with held scalars",
        ["hardshrink"] = "write the activation with held scalars",
        ["softshrink"] = "write the activation with held scalars",
    };

    /// <summary>Modules whose forward makes temporary scalars (BatchNorm counts batches with <c>add_(1)</c>).</summary>
    internal static readonly Dictionary<string, string> ModulesMakingScalars = new()
    {
        ["BatchNorm1d"] = "use OrleansSynth.ML's BatchNormalization",
        ["BatchNorm2d"] = "use OrleansSynth.ML's BatchNormalization",
        ["BatchNorm3d"] = "use OrleansSynth.ML's BatchNormalization",
        ["LeakyReLU"] = "write the activation with held scalars",
        ["Softplus"] = "write the activation with held scalars",
        ["ELU"] = "write the activation with held scalars",
        ["CELU"] = "write the activation with held scalars",
        ["PReLU"] = "write the activation with held scalars",
        ["Mish"] = "write the activation with held scalars",
        ["Softsign"] = "write the activation with held scalars",
        ["Hardtanh"] = "use clamp with held bounds",
        ["Hardshrink"] = "write the activation with held scalars",
        ["Softshrink"] = "write the activation with held scalars",
        ["Threshold"] = "write the activation with held scalars",
        ["GaussianNLLLoss"] = "write the loss with held scalars",
    };

    /// <summary>TorchSharp's optimizers: each step turns its coefficients into temporary scalars, per
    /// parameter.</summary>
    internal static readonly HashSet<string> Optimizers =
    [
        "SGD",
        "Adam",
        "AdamW",
        "Adamax",
        "Adagrad",
        "Adadelta",
        "ASGD",
        "NAdam",
        "RAdam",
        "RMSProp",
        "Rprop",
    ];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var scalar = start.Compilation.GetTypeByMetadataName("TorchSharp.Scalar");
            var tensor = start.Compilation.GetTypeByMetadataName("TorchSharp.torch+Tensor");
            if (scalar is null || tensor is null)
                return;
            start.RegisterOperationAction(c => AnalyzeConversion(c, scalar, tensor), OperationKind.Conversion);
            start.RegisterOperationAction(
                c => AnalyzeOperator(c, scalar, tensor),
                OperationKind.Binary,
                OperationKind.CompoundAssignment
            );
            start.RegisterOperationAction(c => AnalyzeInvocation(c, scalar), OperationKind.Invocation);
        });
    }

    private static void AnalyzeConversion(
        OperationAnalysisContext context,
        INamedTypeSymbol scalar,
        INamedTypeSymbol tensor
    )
    {
        var conversion = (IConversionOperation)context.Operation;
        var method = conversion.OperatorMethod;
        if (method is null)
            return;
        if (Is(method.ContainingType, scalar) && Is(conversion.Type, scalar) && !IsHeld(conversion))
            Report(
                context,
                conversion.Syntax,
                $"Converting {conversion.Operand.Type?.ToDisplayString() ?? "a value"} to a Scalar here",
                Hold
            );
        else if (Is(method.ContainingType, tensor) && method.Name == "op_Explicit" && !Is(conversion.Type, tensor))
            Report(
                context,
                conversion.Syntax,
                $"Casting a tensor to {conversion.Type?.ToDisplayString()}",
                "use item<T>()"
            );
    }

    private static void AnalyzeOperator(
        OperationAnalysisContext context,
        INamedTypeSymbol scalar,
        INamedTypeSymbol tensor
    )
    {
        var method = context.Operation switch
        {
            IBinaryOperation binary => binary.OperatorMethod,
            ICompoundAssignmentOperation compound => compound.OperatorMethod,
            _ => null,
        };
        if (method is null || !Is(method.ContainingType, tensor))
            return;
        var parameters = method.Parameters;
        if (parameters.Any(p => IsNumber(p.Type)))
            Report(
                context,
                context.Operation.Syntax,
                "A tensor operator with a number operand",
                "use TensorArithmetic's Plus, Minus, Times or DividedBy, or a held Scalar"
            );
        else if (method.Name == "op_Addition")
            Report(context, context.Operation.Syntax, "Tensor + (its alpha of 1)", "use TensorArithmetic.Plus");
        else if (method.Name == "op_Subtraction" && Is(parameters[0].Type, scalar))
            Report(
                context,
                context.Operation.Syntax,
                "Scalar - tensor (an addition with alpha 1)",
                "use TensorArithmetic.SubtractedFrom"
            );
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, INamedTypeSymbol scalar)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (!IsTorchSharp(method.ContainingType))
            return;
        var name = method.Name;
        var names = method.Parameters.Select(p => p.Name).ToArray();
        if ((name == "add" || name == "add_") && !names.Contains("alpha"))
            Report(
                context,
                invocation.Syntax,
                $"{name} without an alpha",
                "pass a held alpha (TensorArithmetic.One) or use TensorArithmetic.Plus"
            );
        else if ((name == "addcdiv" || name == "addcdiv_") && !names.Contains("value"))
            Report(context, invocation.Syntax, $"{name} without a value", "pass a held value");
        else if (name == "arange" && !names.Contains("step"))
            Report(context, invocation.Syntax, "arange without a start and step", "pass held start, stop and step");
        else if (name == "normal" && method.Parameters.FirstOrDefault()?.Type.SpecialType == SpecialType.System_Double)
            Report(context, invocation.Syntax, "normal(mean, std, size)", "use randn and scale it with held scalars");
        else if (name == "ToScalar" && Is(method.ReturnType, scalar) && IsHeld(invocation))
            return;
        else if (MembersMakingScalars.TryGetValue(name, out var remedy))
            Report(context, invocation.Syntax, name, remedy);
        else if (
            method.ContainingType.Name is "nn" or "functional"
            && ModulesMakingScalars.TryGetValue(name, out var moduleRemedy)
        )
            Report(context, invocation.Syntax, $"The {name} module", moduleRemedy);
        else if (method.ContainingType.Name == "optim" && Optimizers.Contains(name))
            Report(context, invocation.Syntax, $"TorchSharp's {name} optimizer", "use OrleansSynth.ML.Training.Adam");
    }

    /// <summary>A scalar is held if it initializes a using local or a field: it then outlives the calls it is passed
    /// to.</summary>
    private static bool IsHeld(IOperation operation)
    {
        var parent = operation.Parent;
        while (parent is IConditionalOperation or IParenthesizedOperation)
            parent = parent.Parent;
        if (parent is IFieldInitializerOperation)
            return true;
        if (parent is not IVariableInitializerOperation)
            return false;
        for (var ancestor = parent.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            switch (ancestor)
            {
                case IVariableDeclaratorOperation
                or IVariableDeclarationOperation
                or IVariableDeclarationGroupOperation:
                    continue;
                case IUsingDeclarationOperation or IUsingOperation:
                    return true;
                default:
                    return false;
            }
        }
        return false;
    }

    private static bool IsTorchSharp(INamedTypeSymbol? type)
    {
        for (var ns = type?.ContainingNamespace; ns is not null && !ns.IsGlobalNamespace; ns = ns.ContainingNamespace)
            if (ns.ContainingNamespace.IsGlobalNamespace)
                return ns.Name == "TorchSharp";
        return false;
    }

    private static bool IsNumber(ITypeSymbol type) =>
        type.SpecialType
            is SpecialType.System_Int32
                or SpecialType.System_Int64
                or SpecialType.System_Single
                or SpecialType.System_Double
                or SpecialType.System_Boolean;

    private static bool Is(ITypeSymbol? type, INamedTypeSymbol expected) =>
        SymbolEqualityComparer.Default.Equals(type, expected);

    private static void Report(OperationAnalysisContext context, SyntaxNode syntax, string what, string remedy) =>
        context.ReportDiagnostic(Diagnostic.Create(Rule, syntax.GetLocation(), what, remedy));
}
