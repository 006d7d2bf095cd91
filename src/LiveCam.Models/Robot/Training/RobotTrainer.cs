using LiveCam.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Robot.Training;

/// <summary>Progress of training: epoch, step within it, steps per epoch, and the running loss.</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int Steps, double Loss, TimeSpan Elapsed);

/// <summary>
/// Trains the robot model as published (Nava et al. 2019): masked MSE over known labels, Adam (lr 2e-4),
/// batches of 64, and the original augmentations: Gaussian noise (sigma 0.02) or greyscale or nothing,
/// a per-channel gain in [0.9, 1.1], a linear brightness gradient blended in at 5-15%, and a horizontal flip
/// that also mirrors the five sensors; then the per-image standardisation that inference uses.
/// </summary>
public static class RobotTrainer
{
    /// <exception cref="NotFiniteException">The loss stopped being finite (the message names the epoch and batch).
    /// </exception>
    public static void Train(LongRangePerceptionNet net, RobotDataset data, int epochs, int seed, Device device,
        Action<TrainingProgress>? progress = null, int batchSize = 64, double learningRate = 2e-4)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        manual_seed(seed);
        net.to(device);
        net.train();
        using var optimizer = optim.Adam(net.parameters(), lr: learningRate);
        var random = new Random(seed);
        var generator = new Generator((ulong)seed, device);
        int steps = data.Count / batchSize;
        var started = System.Diagnostics.Stopwatch.StartNew();
        var order = Enumerable.Range(0, data.Count).ToArray();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            double running = 0;
            for (int step = 0; step < steps; step++)
            {
                using var scope = NewDisposeScope();
                var (x, y) = Batch(data, order.AsSpan(step * batchSize, batchSize), device);
                (x, y) = Augment(x, y, generator);
                var prediction = net.call(Standardise(x));
                var loss = MaskedMse(prediction, y);
                double value = loss.item<float>();
                // Before the step: the weights stay as they were, and nothing holding NaN is saved.
                if (!double.IsFinite(value))
                    throw new NotFiniteException($"training: the loss became {NotFiniteException.Kind(value)} " +
                        $"at epoch {epoch + 1}, batch {step + 1} of {steps}; nothing was saved");
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                running = step == 0 ? value : 0.98 * running + 0.02 * value;
                progress?.Invoke(new TrainingProgress(epoch + 1, epochs, step + 1, steps, running, started.Elapsed));
            }
        }
        net.eval();
    }

    /// <summary>mean(((prediction - y) * mask)^2) with mask = label known (y >= 0), over all elements, as published.
    /// </summary>
    public static Tensor MaskedMse(Tensor prediction, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(labels);
        var mask = labels.ge(0).to_type(prediction.dtype);
        return ((prediction - labels.clamp_min(0)) * mask).pow(2).mean();
    }

    /// <summary>Images in [0, 1], [B, 3, 64, 80] (BGR), and labels [B, 325].</summary>
    public static (Tensor Images, Tensor Labels) Batch(RobotDataset data, ReadOnlySpan<int> indices, Device device)
    {
        ArgumentNullException.ThrowIfNull(data);
        const int h = LongRangePerceptionNet.InputHeight, w = LongRangePerceptionNet.InputWidth, plane = h * w;
        var pixels = new float[indices.Length * 3 * plane];
        var labels = new float[indices.Length * LongRangePerceptionNet.Outputs];
        for (int b = 0; b < indices.Length; b++)
        {
            var image = data.Image(indices[b]);
            int o = b * 3 * plane;
            for (int i = 0; i < plane; i++)
                for (int c = 0; c < 3; c++)
                    pixels[o + c * plane + i] = image[i * 3 + c] / 255f;
            data.LabelsOf(indices[b]).CopyTo(labels.AsSpan(b * LongRangePerceptionNet.Outputs));
        }
        return (tensor(pixels, [indices.Length, 3, h, w]).to(device),
            tensor(labels, [indices.Length, LongRangePerceptionNet.Outputs]).to(device));
    }

    /// <summary>Per-image (x - mean) / std over all pixels and channels, as <see cref="RobotPreprocessing"/> does.
    /// </summary>
    public static Tensor Standardise(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var mean = x.mean([1, 2, 3], keepdim: true);
        var std = x.std([1, 2, 3], unbiased: false, keepdim: true);
        return (x - mean) / std.clamp_min(1e-6);
    }

    static (Tensor, Tensor) Augment(Tensor x, Tensor y, Generator g)
    {
        long n = x.shape[0];
        var device = x.device;
        // Gaussian noise, or greyscale, or nothing: one of the three per image.
        var choice = rand([n, 1, 1, 1], generator: g, device: device);
        var noisy = x + randn(x.shape, generator: g, device: device) * 0.02;
        var grey = x.mean([1], keepdim: true).expand_as(x);
        x = where(choice.lt(1.0 / 3), noisy, where(choice.lt(2.0 / 3), grey, x));
        // Per-channel gain.
        x = x * (0.9 + 0.2 * rand([n, 3, 1, 1], generator: g, device: device));
        // A linear brightness gradient in a random direction, blended in at 5-15%.
        var angle = rand([n, 1, 1, 1], generator: g, device: device) * (2 * Math.PI);
        var ys = linspace(-0.5, 0.5, x.shape[2], device: device).reshape(1, 1, -1, 1);
        var xs = linspace(-0.5, 0.5, x.shape[3], device: device).reshape(1, 1, 1, -1);
        var ramp = (xs * angle.cos() + ys * angle.sin()) + 0.5;
        var alpha = 0.05 + 0.1 * rand([n, 1, 1, 1], generator: g, device: device);
        x = x * (1 - alpha) + ramp * alpha;
        // Horizontal flip: the image, and the sensors left-right.
        var flip = rand([n], generator: g, device: device).lt(0.5);
        x = where(flip.reshape(n, 1, 1, 1), x.flip(3), x);
        var grid = y.reshape(n, LongRangePerceptionNet.Distances, LongRangePerceptionNet.Sensors);
        y = where(flip.reshape(n, 1, 1), grid.flip(2), grid).reshape(n, -1);
        return (x, y);
    }
}
