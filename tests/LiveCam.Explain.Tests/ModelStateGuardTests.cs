using LiveCam.Explain.Engine;
using static TorchSharp.torch;

namespace LiveCam.Explain.Tests;

/// <summary>The guard puts a model in inference state and back: mixed modes and mixed parameter flags exactly as they
/// were, and a model already in that state is left untouched.</summary>
public sealed class ModelStateGuardTests
{
    static nn.Module<Tensor, Tensor> Model() => nn.Sequential(
        ("conv", nn.Conv2d(3, 4, 3)), ("norm", nn.BatchNorm2d(4)), ("drop", nn.Dropout(0.5)),
        ("inner", nn.Sequential(("a", nn.Conv2d(4, 4, 1)), ("b", nn.Dropout(0.1)))));

    static (bool[] Modes, bool[] Grads) State(nn.Module model) => (
        new[] { model.training }.Concat(model.named_modules().Select(m => m.module.training)).ToArray(),
        model.parameters().Select(p => p.requires_grad).ToArray());

    [Fact]
    public void Mixed_modes_and_parameter_flags_come_back_as_they_were()
    {
        using var model = Model();
        model.train();
        model.named_modules().Single(m => m.name == "inner").module.eval();  // a part frozen by its owner
        model.named_modules().Single(m => m.name == "norm").module.eval();
        var parameters = model.parameters().ToArray();
        for (int i = 0; i < parameters.Length; i += 2) parameters[i].requires_grad = false;
        var before = State(model);
        Assert.Contains(true, before.Modes);
        Assert.Contains(false, before.Modes);
        Assert.Contains(true, before.Grads);
        Assert.Contains(false, before.Grads);

        using (ModelStateGuard.ForInference(model))
        {
            var inside = State(model);
            Assert.All(inside.Modes, Assert.False);
            Assert.All(inside.Grads, Assert.False);
        }
        var after = State(model);
        Assert.Equal(before.Modes, after.Modes);
        Assert.Equal(before.Grads, after.Grads);
    }

    [Fact]
    public void A_model_already_in_inference_state_stays_in_it()
    {
        using var model = Model();
        model.eval();
        foreach (var p in model.parameters()) p.requires_grad = false;
        using (ModelStateGuard.ForInference(model)) { }
        var after = State(model);
        Assert.All(after.Modes, Assert.False);
        Assert.All(after.Grads, Assert.False);
    }
}
