using System.Text.Json;
using LiveCam.Capture.Synthetic;
using LiveCam.Core;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
using LiveCam.Models.Robot;
using LiveCam.Pipeline.Analysers;
using LiveCam.Drawing;
using LiveCam.Pipeline.Recording;
using static TorchSharp.torch;

namespace LiveCam.Pipeline.Tests;

/// <summary>NaN injected into a live analysis: the HUD says so instead of drawing an empty map, and the log line says
/// so instead of holding NaN.</summary>
public class NotFiniteTests
{
    static VisionModel PoisonedRobot()
    {
        manual_seed(1);
        var net = new LongRangePerceptionNet();
        using (no_grad())
            foreach (var (name, p) in net.named_parameters())
                if (name.EndsWith("bias", StringComparison.Ordinal)) { p.fill_(float.NaN); break; }
        return new VisionModel("robot", net, CPU,
            new ModelInput(
                LongRangePerceptionNet.InputWidth, LongRangePerceptionNet.InputHeight, RobotPreprocessing.ToTensor),
            RobotHead.Instance, "encoder.6", "poisoned");
    }

    [Fact]
    public void A_live_analysis_that_gives_NaN_says_so_in_the_HUD_and_in_the_log()
    {
        using var model = PoisonedRobot();
        var analyser = new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.6"), Target.Sum());
        using var scene = new SyntheticScene(160, 120, 30, seed: 2);
        using var frame = new Frame(scene.Render(5), 5, TimeSpan.FromSeconds(1), "test");
        var analysis = analyser.Analyse(frame);
        Assert.Equal("analysis gave NaN", analysis.Problem);
        Assert.Null(analysis.Heatmap);
        Assert.Null(analysis.Outputs);

        var lines = HudText.Lines(frame, analysis, new PipelineMetrics().ReadHudNumbers(), analyser.Name, model.Head);
        Assert.StartsWith(
            "analysis gave NaN", string.Concat(lines[1].Segments.Select(s => s.Text)), StringComparison.Ordinal);

        var path = Path.GetTempFileName();
        try
        {
            using var log = new AnalysisLog(path, new RecordingContext("test", model.Name, model.Weights, null));
            using var line = JsonDocument.Parse(log.Line(analysis));
            Assert.Equal("analysis gave NaN", line.RootElement.GetProperty("problem").GetString());
            // Outputs that are NaN where the analyser did not catch them: the line says so, with no NaN in it.
            var raw = log.Line(analysis with { Problem = null, Outputs = [0.5f, float.NaN] });
            Assert.DoesNotContain(
                "NaN\"", raw.Replace("gave NaN", "", StringComparison.Ordinal), StringComparison.Ordinal);
            using var rawLine = JsonDocument.Parse(raw);
            Assert.Equal(JsonValueKind.Null, rawLine.RootElement.GetProperty("outputs").ValueKind);
            Assert.Equal("analysis gave NaN or infinity", rawLine.RootElement.GetProperty("problem").GetString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_JSON_file_with_NaN_or_infinity_anywhere_is_refused_naming_what_it_holds()
    {
        Assert.Equal("{\"a\":[1.5,2]}", FiniteJson.Serialize(new { a = new[] { 1.5, 2 } }, "x"));
        var nested = Assert.Throws<NotFiniteException>(() =>
            FiniteJson.Serialize(new { outputs = new[] { 1f, float.NaN } }, "the explanation for e.json"));
        Assert.Equal("the explanation for e.json holds NaN: not written", nested.Message);
        var boxed = Assert.Throws<NotFiniteException>(() => FiniteJson.Serialize(
            new Dictionary<string, object?> { ["auc"] = new double?[][] { [0.5, double.PositiveInfinity] } },
            "the evaluation"));
        Assert.Equal("the evaluation holds infinity: not written", boxed.Message);
    }
}
