using static TorchSharp.torch;

namespace LiveCam.Explain.Engine;

/// <summary>ReLU whose backward pass also zeroes negative gradients (Springenberg et al. 2014, "Striving for
/// Simplicity").</summary>
internal sealed class GuidedRelu : autograd.SingleTensorFunction<GuidedRelu>
{
    public override string Name => nameof(GuidedRelu);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        ctx.save_for_backward([input]);
        return input.clamp_min(0);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var input = ctx.get_saved_variables()[0];
        return [grad_output.clamp_min(0) * input.gt(0).to_type(grad_output.dtype)];
    }
}
