using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LiveCam.Models.Robot;

/// <summary>
/// The long-range perception CNN of Nava et al. 2019 ("Learning Long-range Perception using Self-Supervision
/// from Short-Range Sensors and Odometry"): a 3x64x80 BGR image -> 325 sigmoid outputs = 65 distances x 5
/// proximity sensors. Module names follow the published weights (<c>encoder.6</c>, <c>decoder.3</c>).
/// </summary>
public sealed class LongRangePerceptionNet : Module<Tensor, Tensor>
{
    public const int InputHeight = 64, InputWidth = 80;
    public const int Distances = 65, Sensors = 5, Outputs = Distances * Sensors;

    private readonly Sequential encoder;
    private readonly Sequential decoder;

    public LongRangePerceptionNet() : base(nameof(LongRangePerceptionNet))
    {
        encoder = Sequential(
            ("0", Conv2d(3, 10, 3, padding: 1)), ("1", ReLU()), ("2", MaxPool2d(2)),
            ("3", Conv2d(10, 10, 3, padding: 1)), ("4", ReLU()), ("5", MaxPool2d(2)),
            ("6", Conv2d(10, 8, 3, padding: 1)), ("7", ReLU()), ("8", MaxPool2d(2)));
        decoder = Sequential(
            ("0", Dropout(0.2)),
            ("1", Linear(8 * 8 * 10, 256)), ("2", ReLU()),
            ("3", Linear(256, Outputs)), ("4", Sigmoid()));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = encoder.call(input);
        return decoder.call(features.flatten(1)).MoveToOuterDisposeScope();
    }
}
