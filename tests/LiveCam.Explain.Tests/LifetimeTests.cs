using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using TorchSharp;
using static TorchSharp.torch;
using static LiveCam.Explain.Tests.TestModels;

namespace LiveCam.Explain.Tests;

public class LifetimeTests
{
    public static TheoryData<string> AllMethods => new(MethodCatalog.Names);

    static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [Fact]
    public void A_thousand_explanations_leak_no_tensors_and_no_hooks()
    {
        var model = new RedSquareNet();
        var explainer = new Explainer(model);
        using var input = RedSquare(5, 5);
        var method = new GradCam();
        var layer = LayerSelector.Parse("features");
        explainer.Explain(input, method, Target.Class(0), layer);  // warm-up: the trace is cached
        long before = LiveTensors;
        for (int i = 0; i < 1000; i++) explainer.Explain(input, method, Target.Class(0), layer);
        Assert.Equal(before, LiveTensors);
        Assert.Equal(0, HookSet.LiveHooks);
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void Every_method_leaves_no_tensor_and_no_hook_behind(string name)
    {
        var explainer = new Explainer(new RedSquareNet());
        using var input = RedSquare(5, 5);
        var method = MethodCatalog.Create(name);
        var layer = LayerSelector.Parse("features");
        explainer.Explain(input, method, Target.Class(0), layer);
        long before = LiveTensors;
        for (int i = 0; i < 5; i++) explainer.Explain(input, method, Target.Class(0), layer);
        Assert.Equal(before, LiveTensors);
        Assert.Equal(0, HookSet.LiveHooks);
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void The_model_is_unchanged_after_a_call_even_when_it_fails_midway(string name)
    {
        using var scope = NewDisposeScope();
        var model = new RedSquareNet();
        model.train();
        var input = RedSquare(7, 9);
        float[] expected;
        using (no_grad()) expected = model.call(input).data<float>().ToArray();
        var explainer = new Explainer(model);
        var failing = Target.Function("fails", _ => throw new InvalidOperationException("target failed"));

        Assert.Throws<InvalidOperationException>(() =>
            explainer.Explain(input, MethodCatalog.Create(name), failing, LayerSelector.Parse("features")));
        explainer.Explain(input, MethodCatalog.Create(name), Target.Class(0), LayerSelector.Parse("features"));

        Assert.Equal(0, HookSet.LiveHooks);
        Assert.True(model.training, "the training flag was not restored");
        Assert.All(model.modules(), m => Assert.True(m.training));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad, "a parameter was left frozen"));
        using (no_grad()) Assert.Equal(expected, model.call(input).data<float>().ToArray());
        Assert.All(model.parameters(), p => Assert.True(
            p.grad is null || p.grad.abs().sum().item<float>() == 0, "an explanation left parameter gradients"));
    }
}
