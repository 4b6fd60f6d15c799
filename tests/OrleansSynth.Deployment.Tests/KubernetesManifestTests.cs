using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NJsonSchema;
using OrleansSynth.Cluster.Tests;
using YamlDotNet.RepresentationModel;

namespace OrleansSynth.Deployment.Tests;

/// <summary>
/// The Kubernetes manifests and the Helm chart, as far as this machine can check them: no cluster and no helm binary
/// exist here, so every kustomization is rendered by kubectl, the chart's values are validated against its schema, and
/// the chart and the kustomize manifests must declare the same objects.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    private static readonly string Root = DockerEngine.RepositoryRoot;
    private static string Chart => Path.Combine(Root, "helm", "orleanssynth");

    [Theory]
    [InlineData("k8s/base")]
    [InlineData("k8s/overlays/cpu")]
    [InlineData("k8s/overlays/gpu")]
    [InlineData("k8s/jobs/submit-run")]
    [InlineData("k8s/overlays/azure")]
    [InlineData("k8s/jobs/submit-run-azure")]
    [InlineData("k8s/cert-manager")]
    public async Task EveryKustomizationRenders(string folder)
    {
        var objects = await RenderAsync(folder);
        Assert.NotEmpty(objects);
        Assert.All(objects, o => Assert.False(string.IsNullOrEmpty(o.Name), $"a {o.Kind} without a name"));
    }

    [Fact]
    public async Task TheGpuOverlayAndTheChartRequestAGpuPerSilo()
    {
        var gpu = (await RenderAsync("k8s/overlays/gpu")).Single(o => o.Kind == "Deployment");
        var container = (YamlMappingNode)
            ((YamlSequenceNode)At(gpu.Node, "spec", "template", "spec", "containers")).Children[0];
        Assert.Equal("1", At(container, "resources", "limits", "nvidia.com/gpu").ToString());
        Assert.EndsWith("-cuda", At(container, "image").ToString());
        Assert.Equal(
            "true",
            At(gpu.Node, "spec", "template", "spec", "nodeSelector", "nvidia.com/gpu.present").ToString()
        );
        var cpu = (await RenderAsync("k8s/overlays/cpu")).Single(o => o.Kind == "Deployment");
        Assert.DoesNotContain("nvidia.com/gpu", Serialize(cpu.Node));

        var template = await File.ReadAllTextAsync(Path.Combine(Chart, "templates", "silo-deployment.yaml"));
        Assert.Contains("\"nvidia.com/gpu\" (toString $gpu.perSilo)", template);
        Assert.Contains("if $gpu.enabled", template);
    }

    [Fact]
    public async Task TheChartsValuesMatchItsSchema()
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(Chart, "values.schema.json"));
        var values = YamlToJson(await File.ReadAllTextAsync(Path.Combine(Chart, "values.yaml")));
        var errors = schema.Validate(values.ToJsonString());
        Assert.True(errors.Count == 0, string.Join("\n", errors));

        // The schema refuses what helm must refuse: a wrong type, an unknown key, a GPU count of zero.
        var wrongType = values.DeepClone();
        wrongType["silo"]!["replicas"] = "three";
        Assert.NotEmpty(schema.Validate(wrongType.ToJsonString()));
        var unknownKey = values.DeepClone();
        unknownKey["silo"]!["replica"] = 3;
        Assert.NotEmpty(schema.Validate(unknownKey.ToJsonString()));
        var noGpu = values.DeepClone();
        noGpu["silo"]!["gpu"]!["perSilo"] = 0;
        Assert.NotEmpty(schema.Validate(noGpu.ToJsonString()));
    }

    [Fact]
    public async Task TheChartAndTheKustomizeManifestsDeclareTheSameObjects()
    {
        var kustomize = (await RenderAsync("k8s/base"))
            .Concat(await RenderAsync("k8s/jobs/submit-run"))
            .Select(o => $"{o.Kind}/{o.Name}/{o.Component}")
            .Order()
            .ToList();
        // Templates hold Go template syntax, so they are read as text: each document's kind, name and component.
        var chart = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(Chart, "templates"), "*.yaml"))
        foreach (var document in (await File.ReadAllTextAsync(file)).Split("\n---"))
        {
            var kind = KindLine().Match(document);
            if (!kind.Success)
                continue;
            var name = NameLine()
                .Match(document)
                .Groups[1]
                .Value.Replace("{{ include \"orleanssynth.fullname\" . }}", "orleanssynth");
            chart.Add($"{kind.Groups[1].Value}/{name}/{ComponentLine().Match(document).Groups[1].Value}");
        }
        Assert.Equal(kustomize, chart.Order().ToList());
    }

    [Fact]
    public void TheChartShipsTheMonitoringFilesOfTheKustomizeBase()
    {
        foreach (var file in new[] { "orleanssynth-dashboard.json", "alerts.yml", "prometheus-scrape.yml" })
            Assert.Equal(
                File.ReadAllText(Path.Combine(Root, "k8s", "base", "monitoring", file)),
                File.ReadAllText(Path.Combine(Chart, "files", file))
            );
        Assert.Equal(
            File.ReadAllText(Path.Combine(Root, "k8s", "jobs", "submit-run", "spec.yaml")),
            File.ReadAllText(Path.Combine(Chart, "files", "run-spec.yaml"))
        );
    }

    private sealed record Rendered(string Kind, string Name, string Component, YamlMappingNode Node);

    private static async Task<List<Rendered>> RenderAsync(string folder)
    {
        using var kubectl = new ExternalProcess("kubectl", ["kustomize", Path.Combine(Root, folder)]);
        var exit = await kubectl.ExitCodeAsync(TimeSpan.FromMinutes(1));
        Assert.True(exit == 0, $"kubectl kustomize {folder} exited {exit}:\n{kubectl.Output}");
        var stream = new YamlStream();
        stream.Load(new StringReader(kubectl.Output));
        return stream
            .Documents.Select(d => (YamlMappingNode)d.RootNode)
            .Select(node => new Rendered(
                At(node, "kind").ToString(),
                At(node, "metadata", "name").ToString(),
                ((YamlMappingNode)At(node, "metadata")).Children.TryGetValue("labels", out var labels)
                && ((YamlMappingNode)labels).Children.TryGetValue("app.kubernetes.io/component", out var component)
                    ? component.ToString()
                    : "",
                node
            ))
            .ToList();
    }

    private static YamlNode At(YamlNode node, params string[] keys)
    {
        foreach (var key in keys)
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        return node;
    }

    private static string Serialize(YamlNode node)
    {
        var writer = new StringWriter();
        new YamlStream(new YamlDocument(node)).Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    /// <summary>values.yaml as JSON for the schema: YAML scalars typed as helm types them (numbers, booleans,
    /// strings).</summary>
    private static JsonNode YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode)!;

        static JsonNode? Convert(YamlNode node) =>
            node switch
            {
                YamlMappingNode map => new JsonObject(
                    map.Children.Select(c => KeyValuePair.Create(c.Key.ToString(), Convert(c.Value)))
                ),
                YamlSequenceNode list => new JsonArray(list.Children.Select(Convert).ToArray()),
                YamlScalarNode { Style: not YamlDotNet.Core.ScalarStyle.Plain } text => JsonValue.Create(text.Value),
                YamlScalarNode scalar when scalar.Value is "true" or "false" => JsonValue.Create(
                    scalar.Value == "true"
                ),
                YamlScalarNode scalar when long.TryParse(scalar.Value, out var number) => JsonValue.Create(number),
                YamlScalarNode scalar
                    when double.TryParse(
                        scalar.Value,
                        System.Globalization.CultureInfo.InvariantCulture,
                        out var real
                    ) => JsonValue.Create(real),
                YamlScalarNode scalar => scalar.Value is null or "" or "null" or "~"
                    ? null
                    : JsonValue.Create(scalar.Value),
                _ => throw new InvalidDataException($"unexpected YAML node {node.NodeType}"),
            };
    }

    [GeneratedRegex(@"^kind:\s*(\w+)", RegexOptions.Multiline)]
    private static partial Regex KindLine();

    [GeneratedRegex(@"^  name:\s*(.+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex NameLine();

    [GeneratedRegex(@"app\.kubernetes\.io/component:\s*(\w+)")]
    private static partial Regex ComponentLine();
}
