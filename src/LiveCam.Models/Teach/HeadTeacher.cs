using LiveCam.Core;
using System.Diagnostics;
using LiveCam.Explain.Engine;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Teach;

/// <summary>
/// Teaches a linear head on a network's pooled features: each example image is seen in a few lightly changed views
/// (cropped, flipped, lighter or darker), the views' features are kept, and the head is trained on all of them with
/// softmax regression (classes weighted equally however many examples each has). Not thread-safe: one thread uses it.
/// </summary>
public sealed class HeadTeacher : IDisposable
{
    readonly VisionModel _features;
    readonly IReadOnlyList<string> _names;
    readonly List<(int Class, float[] Features)> _examples = [];
    readonly Random _random;

    /// <param name="features">A network whose outputs are features (owned: disposed with the teacher). Its own
    /// instance: the teacher runs it on its thread while another instance is explained on another.</param>
    /// <param name="classNames">The name of each class the keys can teach, in key order.</param>
    public HeadTeacher(VisionModel features, IReadOnlyList<string> classNames, int seed = 0)
    {
        _features = features ?? throw new ArgumentNullException(nameof(features));
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count is < 1 or > TaughtHead.MaxClasses)
            throw new ArgumentException($"1 to {TaughtHead.MaxClasses} classes", nameof(classNames));
        _names = classNames.ToList();
        _random = new Random(seed);
    }

    public IReadOnlyList<string> ClassNames => _names;

    /// <summary>Views per example: the image itself and lightly changed copies.</summary>
    public int Views { get; init; } = 6;

    /// <summary>The examples (views) each class has, in key order.</summary>
    public IReadOnlyList<int> Counts => _names.Select((_, i) => _examples.Count(e => e.Class == i)).ToList();

    /// <summary>The features of an image as the network makes them (the head's input).</summary>
    public float[] Features(Mat image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Features([image])[0];
    }

    float[][] Features(IReadOnlyList<Mat> images)
    {
        using var scope = NewDisposeScope();
        using var state = ModelStateGuard.ForInference(_features.Network);
        using var _ = no_grad();
        var batch = cat(images.Select(_features.Preprocess).ToArray(), 0);
        var output = _features.Network.call(batch).flatten(1).cpu();
        var values = output.data<float>().ToArray();
        int width = (int)output.shape[1];
        return Enumerable.Range(0, images.Count).Select(i => values.AsSpan(i * width, width).ToArray()).ToArray();
    }

    /// <summary>Adds <paramref name="image"/> (borrowed) as an example of class <paramref name="classIndex"/>, in
    /// <see cref="Views"/> views.</summary>
    public void Add(int classIndex, Mat image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (classIndex < 0 || classIndex >= _names.Count)
            throw new ArgumentOutOfRangeException(nameof(classIndex), $"class {classIndex + 1} of {_names.Count}");
        var views = new List<Mat> { image };
        try
        {
            for (int v = 1; v < Views; v++) views.Add(Augment(image, _random));
            foreach (var f in Features(views)) _examples.Add((classIndex, f));
        }
        finally
        {
            foreach (var v in views.Skip(1)) v.Dispose();
        }
    }

    /// <summary>Takes up the examples a saved head remembers, each under its class's name.</summary>
    /// <exception cref="ArgumentException">The head has a class this teacher has no key for.</exception>
    public void Remember(TaughtHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        foreach (var example in head.Memory)
        {
            int index = _names.ToList().IndexOf(head.Classes[example.Class]);
            if (index < 0)
                throw new ArgumentException($"the head's class '{head.Classes[example.Class]}' is not one of " +
                    $"{string.Join(", ", _names)}", nameof(head));
            _examples.Add((index, example.Features));
        }
    }

    /// <summary>Forgets every example.</summary>
    public void Clear() => _examples.Clear();

    /// <summary>A lightly changed copy (the caller's): a crop of 75 to 100% of each side, a mirror image half the
    /// time, contrast and brightness within ±20%.</summary>
    public static Mat Augment(Mat image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        int w = Math.Max(1, (int)(image.Width * (0.75 + 0.25 * random.NextDouble())));
        int h = Math.Max(1, (int)(image.Height * (0.75 + 0.25 * random.NextDouble())));
        var crop = new Rect(random.Next(image.Width - w + 1), random.Next(image.Height - h + 1), w, h);
        var view = new Mat();
        using (var part = new Mat(image, crop))
            part.ConvertTo(view, -1, 0.8 + 0.4 * random.NextDouble(), 51 * (random.NextDouble() - 0.5));
        if (random.Next(2) == 1) Cv2.Flip(view, view, FlipMode.Y);
        return view;
    }

    /// <summary>A head of the classes that have examples (in key order), trained on all their views; without weights
    /// while fewer than two classes have examples.</summary>
    public TaughtHead Train() => Train(out _);

    public TaughtHead Train(out TimeSpan took)
    {
        var clock = Stopwatch.StartNew();
        var counts = Counts;
        var taught = Enumerable.Range(0, _names.Count).Where(i => counts[i] > 0).ToList();
        int featureCount = _examples.Count > 0 ? _examples[0].Features.Length : 0;
        var classes = taught.Select(i => _names[i]).ToList();
        var examples = taught.Select(i => counts[i]).ToList();
        var outputOf = taught.Select((c, k) => (c, k)).ToDictionary(t => t.c, t => t.k);
        var memory = _examples.Select(e => new TaughtExample(outputOf[e.Class], e.Features)).ToList();
        if (taught.Count < 2)
        {
            took = clock.Elapsed;
            return new TaughtHead(_features.Name, featureCount, classes, examples, [], []) { Memory = memory };
        }
        var (weight, bias) = SoftmaxRegression.Fit(memory.Select(e => e.Features).ToList(),
            memory.Select(e => e.Class).ToList(), taught.Count);
        took = clock.Elapsed;
        return new TaughtHead(_features.Name, featureCount, classes, examples, weight, bias) { Memory = memory };
    }

    public void Dispose() => _features.Dispose();
}

/// <summary>Multinomial logistic regression on unit-length features, by full-batch Adam; every class weighs the same
/// in the loss whatever its number of examples.</summary>
public static class SoftmaxRegression
{
    public const int Steps = 300;
    const double LearningRate = 0.05, WeightDecay = 1e-4;

    /// <returns>Weight [classes x features] row-major and bias [classes].</returns>
    /// <exception cref="NotFiniteException">The loss stopped being finite (NaN features, say).</exception>
    public static (float[] Weight, float[] Bias) Fit(IReadOnlyList<float[]> features, IReadOnlyList<int> labels,
        int classes)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Count == 0 || features.Count != labels.Count)
            throw new ArgumentException("one label per feature vector, at least one");
        int n = features.Count, f = features[0].Length;
        // Hundreds of tiny steps: one thread. More only wait for each other at every operation (ten times slower on a
        // busy 2-core machine).
        return TorchThreads.With(1, () => Fit(features, labels, classes, n, f));
    }

    static (float[] Weight, float[] Bias) Fit(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int classes,
        int n, int f)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var x = tensor(features.SelectMany(v => v).ToArray(), [n, f]);
        x = x / x.norm(1, keepdim: true).clamp_min(1e-12);
        var y = tensor(labels.Select(l => (long)l).ToArray());
        var perClass = bincount(y, minlength: classes).to_type(ScalarType.Float32);
        var classWeight = (perClass.sum() / (classes * perClass.clamp_min(1))).detach();
        var weight = new TorchSharp.Modules.Parameter(zeros(classes, f));
        var bias = new TorchSharp.Modules.Parameter(zeros(classes));
        using var optimiser = optim.Adam([weight, bias], LearningRate);
        for (int step = 0; step < Steps; step++)
        {
            using var stepScope = NewDisposeScope();
            optimiser.zero_grad();
            var loss = nn.functional.cross_entropy(nn.functional.linear(x, weight, bias), y, classWeight)
                + WeightDecay * weight.pow(2).sum();
            double value = loss.item<float>();
            if (!double.IsFinite(value))
                throw new NotFiniteException($"teaching: the loss became {NotFiniteException.Kind(value)} " +
                    $"at step {step + 1} of {Steps}; nothing was saved");
            loss.backward();
            optimiser.step();
        }
        return (weight.detach().data<float>().ToArray(), bias.detach().data<float>().ToArray());
    }
}
