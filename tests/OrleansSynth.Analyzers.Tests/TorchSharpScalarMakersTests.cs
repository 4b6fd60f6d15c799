using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace OrleansSynth.Analyzers.Tests;

/// <summary>
/// Reads TorchSharp's IL for every method that creates a Scalar (a conversion from a number, <c>ToScalar</c>, or its
/// constructor), directly or through another such method, and checks that the analyzer names each public one this code
/// base could call. A TorchSharp upgrade that adds one fails here, not in production.
/// </summary>
public sealed class TorchSharpScalarMakersTests
{
    /// <summary>Parts of TorchSharp the analyzer leaves alone, and why.</summary>
    private static readonly (string Prefix, string Reason)[] NotListed =
    [
        ("torch+distributions", "probability distributions: not used (their classes are skipped below too)"),
        ("torch+utils+tensorboard", "TensorBoard summaries: not used"),
        ("SummaryWriter", "TensorBoard summaries: not used"),
        ("torch+jit", "TorchScript modules: not used"),
        ("Histogram", "the histogram helpers behind torch.histogram, which is listed"),
        ("torch+Tensor::ToString", "text for people, off the training path"),
        ("torch+Tensor::To", "ToCSharpString / ToJuliaString / ToNumpyString: text for people"),
        ("torch+Tensor::BuildRow", "text for people"),
        ("torch+Tensor::Print", "text for people"),
        ("torch+Tensor::RecursivePrint", "text for people"),
        ("TensorExtensionMethods::str", "text for people"),
        ("TensorExtensionMethods::print", "text for people"),
        ("TensorExtensionMethods::npstr", "text for people"),
        ("TensorExtensionMethods::cstr", "text for people"),
        ("TensorExtensionMethods::jlstr", "text for people"),
        ("TensorExtensionMethods::metastr", "text for people"),
        ("TensorHTMLFormatter", "text for people"),
        ("TensorPlainTextFormatter", "text for people"),
    ];

    /// <summary>Handled by the analyzer's rules for operators and for overloads without an alpha, value or
    /// step.</summary>
    private static readonly HashSet<string> ByRule =
    [
        "op_Addition",
        "op_Subtraction",
        "op_Multiply",
        "op_Division",
        "op_Modulus",
        "op_Explicit",
        "add",
        "add_",
        "addcdiv",
        "addcdiv_",
        "arange",
        "normal",
        "ToScalar",
    ];

    [Fact]
    public void TheAnalyzerNamesEveryTorchSharpMemberThatMakesAScalar()
    {
        var makers = ScalarMakers(typeof(TorchSharp.torch).Assembly.Location);
        Assert.Contains("torch+Tensor::square", makers); // the scan finds what is known to be there
        var modules = typeof(TorchSharp.torch).Assembly.GetTypes();
        var missing = new List<string>();
        foreach (var maker in makers)
        {
            if (NotListed.Any(n => maker.StartsWith(n.Prefix, StringComparison.Ordinal)))
                continue;
            var (type, member) = (
                maker[..maker.IndexOf("::", StringComparison.Ordinal)],
                maker[(maker.IndexOf("::", StringComparison.Ordinal) + 2)..]
            );
            var typeName = type.Split('+')[0];
            if (
                modules.Any(t =>
                    t.Name == typeName && IsOrDerivesFrom(t, "Distribution", "TorchSharp.Modules", "TorchSharp")
                )
            )
                continue;
            if (
                ByRule.Contains(member)
                || TemporaryScalarAnalyzer.MembersMakingScalars.ContainsKey(member)
                || TemporaryScalarAnalyzer.ModulesMakingScalars.ContainsKey(member)
                || TemporaryScalarAnalyzer.Optimizers.Contains(typeName)
            )
                continue;
            // A module's forward or constructor: every concrete module class built on it must be listed.
            var classes = modules
                .Where(t => !t.IsAbstract && IsOrDerivesFrom(t, typeName))
                .Select(t => t.Name)
                .ToArray();
            if (classes.Length > 0 && classes.All(TemporaryScalarAnalyzer.ModulesMakingScalars.ContainsKey))
                continue;
            missing.Add(maker);
        }
        Assert.True(missing.Count == 0, "Not named by the analyzer: " + string.Join(", ", missing));
    }

    private static bool IsOrDerivesFrom(Type type, string name, params string[] namespaces)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (
                t.Name == name
                && (namespaces.Length == 0 ? t.Namespace == "TorchSharp.Modules" : namespaces.Contains(t.Namespace))
            )
                return true;
        return false;
    }

    /// <summary>"Type::method" of every method whose IL creates a Scalar, or calls or takes the address of one that
    /// does.</summary>
    private static HashSet<string> ScalarMakers(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var opcodes = typeof(OpCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!)
            .ToDictionary(o => (ushort)o.Value);
        var calls = new Dictionary<string, HashSet<string>>();
        foreach (var typeHandle in metadata.TypeDefinitions)
        {
            var type = metadata.GetTypeDefinition(typeHandle);
            foreach (var methodHandle in type.GetMethods())
            {
                var method = metadata.GetMethodDefinition(methodHandle);
                var name = TypeName(metadata, type) + "::" + metadata.GetString(method.Name);
                if (!calls.TryGetValue(name, out var callees))
                    calls[name] = callees = [];
                if (method.RelativeVirtualAddress == 0)
                    continue;
                var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILBytes() ?? [];
                for (var i = 0; i < il.Length; )
                {
                    var code = il[i] == 0xFE ? (ushort)(0xFE00 | il[i + 1]) : il[i];
                    var opcode = opcodes[code];
                    i += opcode.Size;
                    if (opcode.OperandType == OperandType.InlineMethod)
                        callees.Add(Target(metadata, BitConverter.ToInt32(il, i)));
                    i += opcode.OperandType switch
                    {
                        OperandType.InlineNone => 0,
                        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                        OperandType.InlineVar => 2,
                        OperandType.InlineI8 or OperandType.InlineR => 8,
                        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                        _ => 4,
                    };
                }
            }
        }
        static bool Creates(string callee) =>
            callee.StartsWith("Scalar::op_Implicit", StringComparison.Ordinal)
            || callee.EndsWith("::ToScalar", StringComparison.Ordinal)
            || callee == "Scalar::.ctor";
        var makers = calls
            .Where(c => !c.Key.StartsWith("Scalar", StringComparison.Ordinal) && c.Value.Any(Creates))
            .Select(c => c.Key)
            .ToHashSet();
        for (var grew = true; grew; )
        {
            grew = false;
            foreach (var (caller, callees) in calls)
                if (!makers.Contains(caller) && callees.Any(makers.Contains))
                    grew = makers.Add(caller) || grew;
        }
        // Compiler-generated lambdas and iterators count for the method that declares them.
        return makers
            .Select(m =>
                m.Contains("::<", StringComparison.Ordinal)
                    ? m[..m.IndexOf("::<", StringComparison.Ordinal)] + "::(lambda)"
                    : m
            )
            .Where(m => !m.Contains("+<", StringComparison.Ordinal))
            .ToHashSet();
    }

    private static string TypeName(MetadataReader metadata, TypeDefinition type)
    {
        var name = metadata.GetString(type.Name);
        var declaring = type.GetDeclaringType();
        return declaring.IsNil ? name : TypeName(metadata, metadata.GetTypeDefinition(declaring)) + "+" + name;
    }

    private static string Target(MetadataReader metadata, int token)
    {
        var handle = MetadataTokens.EntityHandle(token);
        switch (handle.Kind)
        {
            case HandleKind.MethodDefinition:
                var definition = metadata.GetMethodDefinition((MethodDefinitionHandle)handle);
                return TypeName(metadata, metadata.GetTypeDefinition(definition.GetDeclaringType()))
                    + "::"
                    + metadata.GetString(definition.Name);
            case HandleKind.MemberReference:
                var reference = metadata.GetMemberReference((MemberReferenceHandle)handle);
                var parent =
                    reference.Parent.Kind == HandleKind.TypeReference
                        ? metadata.GetString(metadata.GetTypeReference((TypeReferenceHandle)reference.Parent).Name)
                    : reference.Parent.Kind == HandleKind.TypeDefinition
                        ? TypeName(metadata, metadata.GetTypeDefinition((TypeDefinitionHandle)reference.Parent))
                    : "?";
                return parent + "::" + metadata.GetString(reference.Name);
            case HandleKind.MethodSpecification:
                return Target(
                    metadata,
                    MetadataTokens.GetToken(metadata.GetMethodSpecification((MethodSpecificationHandle)handle).Method)
                );
            default:
                return "?";
        }
    }
}
