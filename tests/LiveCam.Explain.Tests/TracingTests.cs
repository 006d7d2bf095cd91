using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using TorchSharp;
using static TorchSharp.torch;
using static LiveCam.Explain.Tests.TestModels;

namespace LiveCam.Explain.Tests;

public class TracingTests
{
    [Fact]
    public void Layers_are_listed_in_the_order_the_input_traverses_them_however_deeply_nested()
    {
        using var scope = NewDisposeScope();
        var trace = LayerTracer.Trace(new NestedNet(), rand(1, 3, 10, 12));
        Assert.Equal(
            new[]
            {
                "stem.conv", "stem.act", "block.inner.a", "block.inner.b.norm", "block.inner.b.act", "head.pool",
                "head.flat", "head.fc"
            },
            trace.Select(l => l.Name));
        Assert.Equal(
            new[] { "Conv2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU", "AdaptiveAvgPool2d", "Flatten", "Linear" },
            trace.Select(l => l.Type));
        Assert.Equal(new long[] { 1, 6, 10, 12 }, trace[2].OutputShape);
        Assert.Equal(new long[] { 1, 3 }, trace[^1].OutputShape);
        Assert.Equal(Enumerable.Range(0, 8), trace.Select(l => l.Index));
    }

    /// <summary>A layer is resolved once per input shape and then remembered: each shape keeps its own, and a name
    /// that is not there is refused every time, never remembered.</summary>
    [Fact]
    public void A_resolved_layer_is_the_one_of_that_input_shape_and_a_wrong_name_is_refused_every_time()
    {
        using var scope = NewDisposeScope();
        var explainer = new Explainer(new NestedNet());
        var selector = LayerSelector.Parse("block.inner.a");
        var small = rand(1, 3, 10, 12);
        var large = rand(1, 3, 20, 14);
        Assert.Equal(new long[] { 1, 6, 10, 12 }, explainer.ResolveLayer(small, selector).OutputShape);
        Assert.Equal(new long[] { 1, 6, 20, 14 }, explainer.ResolveLayer(large, selector).OutputShape);
        Assert.Same(explainer.ResolveLayer(small, selector),
            explainer.ResolveLayer(small, LayerSelector.Parse("block.inner.a")));
        for (int i = 0; i < 2; i++)
            Assert.Throws<ArgumentException>(() => explainer.ResolveLayer(small, LayerSelector.Parse("block.nothing")));
        Assert.Equal(new long[] { 1, 6, 10, 12 }, explainer.ResolveLayer(small, LayerSelector.Parse("2")).OutputShape);
    }

    [Fact]
    public void A_torchvision_resnet_is_traced_and_explained_despite_its_own_dispose_scope()
    {
        using var scope = NewDisposeScope();
        manual_seed(0);
        var model = torchvision.models.resnet18(num_classes: 10);
        var input = rand(1, 3, 64, 64);
        var explainer = new Explainer(model);
        var trace = explainer.Layers(input);
        Assert.Equal(53, trace.Count);
        Assert.Equal("conv1", trace[0].Name);
        Assert.Contains(trace, l => l.Name == "layer4.1.conv2" && l.ShapeText == "1x512x2x2");
        Assert.Equal("fc", trace[^1].Name);
        Assert.Equal("layer4.1.conv2", LayerSelector.Default.Resolve(model, trace));

        // A container layer (the residual block's output, after its functional ReLU) can be explained too.
        var set = explainer.Explain(input, new GradCam(), Target.TopK(2), LayerSelector.Parse("layer4"));
        Assert.Equal(2, set.Items.Count);
        Assert.Equal("1x512x2x2", set.Items[0].Layer!.ShapeText);
        var cam = explainer.Explain(input, new Cam(), Target.Class(3), LayerSelector.Parse("layer4")).Items[0].Map;
        var grad = explainer.Explain(input, new GradCam(), Target.Class(3), LayerSelector.Parse("layer4")).Items[0].Map;
        for (int i = 0; i < cam.Values.Length; i++) Assert.Equal(cam.Normalised[i], grad.Normalised[i], 1e-4);
        var saliency = explainer.Explain(input, new GuidedBackprop(), Target.Top()).Items[0].Map;
        Assert.Equal((64, 64), (saliency.Height, saliency.Width));
    }

    [Fact]
    public void Layers_are_chosen_by_name_by_index_or_by_rule()
    {
        using var scope = NewDisposeScope();
        var model = new NestedNet();
        var trace = LayerTracer.Trace(model, rand(1, 3, 8, 8));
        Assert.Equal("block.inner.a", LayerSelector.Parse("block.inner.a").Resolve(model, trace));
        Assert.Equal("block.inner.a", LayerSelector.Parse("index:2").Resolve(model, trace));
        Assert.Equal("block.inner.a", LayerSelector.Parse("2").Resolve(model, trace));
        Assert.Equal("block.inner.a", LayerSelector.Parse("last-conv").Resolve(model, trace));
        var e = Assert.Throws<ArgumentException>(() => LayerSelector.Parse("block.inner.z").Resolve(model, trace));
        Assert.Contains("block.inner.a", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => LayerSelector.Parse("index:99").Resolve(model, trace));
    }

    [Fact]
    public void Filter_weights_and_feature_maps_become_grids()
    {
        using var scope = NewDisposeScope();
        var model = new RedSquareNet();
        var filters = Visualisations.LayerViews.FilterWeights(Layers.ModuleTree.Find(model, "features.conv1"));
        Assert.Equal((4, 3), (filters.Tiles, filters.Channels));
        var maps = Visualisations.LayerViews.FeatureMaps(rand(1, 6, 5, 7));
        Assert.Equal(6, maps.Tiles);
        Assert.Equal((5 * 2 + 1, 7 * 3 + 2), (maps.Height, maps.Width));
        Assert.All(maps.Pixels, p => Assert.InRange(p, 0f, 1f));
    }

    [Fact]
    public void The_interesting_region_is_where_the_map_is_hot()
    {
        using var scope = NewDisposeScope();
        var input = RedSquare(12, 4, side: 8);
        var map = new Explainer(new RedSquareNet())
            .Explain(input, new GradCam(), Target.Class(0), LayerSelector.Parse("features")).Items[0].Map;
        var (masked, box) = Visualisations.InterestingRegion.Apply(input, map, 0.5f);
        Assert.InRange(box.X, 10, 13);
        Assert.InRange(box.Y, 2, 5);
        Assert.InRange(box.Width, 6, 11);
        Assert.Equal(0f, masked[0, 30, 30].item<float>());
        Assert.Equal(0.9f, masked[0, 8, 16].item<float>(), 1e-6);
    }
}
