using System.CommandLine;
using System.Diagnostics;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
using LiveCam.Models.Teach;
using OpenCvSharp;
using static TorchSharp.torch;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Bench;

/// <summary>
/// <c>livecam bench teach</c>: how well a head taught in seconds tells objects apart, and whether its explanation
/// points at them. Each object image is pasted at a random size and place onto background pictures: scenes made
/// with half of the backgrounds teach the head, scenes on the other half test it (unseen backgrounds, sizes and
/// places). On the test scenes, the pointing game (Zhang et al. 2016): does the Grad-CAM map's peak for the true class
/// fall on the object's box (15 px of tolerance)? A map that always points at the middle is the baseline.
/// </summary>
internal static class TeachBench
{
    const int Width = 640, Height = 480, Tolerance = 15;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var objects = new Option<string>("--objects")
        {
            Description = "a folder with one image per class (the file's name is the class)", Required = true
        };
        var backgrounds = new Option<string>("--backgrounds")
        {
            Description = "a folder of background pictures or a video (every 10th frame)", Required = true
        };
        var train = new Option<int>("--train")
        {
            Description = "teaching scenes per class", DefaultValueFactory = _ => 6
        };
        var test = new Option<int>("--test") { Description = "test scenes per class", DefaultValueFactory = _ => 20 };
        var views = SharedOptions.Views("views per teaching scene (as teach)");
        var model = SharedOptions.Model("the network of features", "resnet18-imagenet");
        var save = new Option<string?>("--save-scenes")
        {
            Description = "also write the test scenes with their boxes and map peaks to this folder"
        };
        var command = new Command("teach", "Teach a head on objects pasted into scenes, then measure its accuracy and "
            + "the pointing game on unseen scenes.");
        foreach (var o in new Option[] { objects, backgrounds, train, test, views, model, save }) command.Add(o);
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(train) < 1 || parsed.GetValue(test) < 1 || parsed.GetValue(views) < 1)
                throw new UsageException("--train, --test and --views must be 1 or more");
            Bench(parsed.GetValue(objects)!, parsed.GetValue(backgrounds)!, parsed.GetValue(model)!,
                parsed.GetValue(train), parsed.GetValue(test),
                parsed.GetValue(views), parsed.GetValue(save), output);
            return Cli.Ok;
        });
        return command;
    }

    sealed record Scene(Mat Image, int Class, Rect Box) : IDisposable
    {
        public void Dispose() => Image.Dispose();
    }

    static void Bench(string objectFolder, string backgroundSource, string modelName, int trainPerClass,
        int testPerClass, int views, string? saveFolder, TextWriter output)
    {
        if (!Directory.Exists(objectFolder)) throw new UsageException($"cannot read '{objectFolder}': no such folder");
        var objectFiles = Directory.GetFiles(objectFolder)
            .Where(f => Path.GetExtension(f).ToLowerInvariant() is ".jpg" or ".jpeg" or ".png")
            .OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (objectFiles.Count is < 2 or > TaughtHead.MaxClasses)
            throw new UsageException(
                $"'{objectFolder}' has {objectFiles.Count} images; 2 to {TaughtHead.MaxClasses} objects");
        var names = objectFiles.Select(Path.GetFileNameWithoutExtension).Select(n => n!).ToList();
        var objectImages = objectFiles.Select(f => Cv2.ImRead(f, ImreadModes.Color)).ToList();
        var backgrounds = Backgrounds(backgroundSource);
        var scenes = new List<Scene>();
        try
        {
            if (objectImages.Any(i => i.Empty()))
                throw new UsageException($"an image in '{objectFolder}' cannot be decoded");
            if (backgrounds.Count < 2)
                throw new UsageException(
                    $"'{backgroundSource}' gives {backgrounds.Count} backgrounds; at least 2 (half teach, half test)");
            var random = new Random(7);
            var trainScenes =
                Make(objectImages, backgrounds.Where((_, i) => i % 2 == 0).ToList(), trainPerClass, random);
            var testScenes = Make(objectImages, backgrounds.Where((_, i) => i % 2 == 1).ToList(), testPerClass, random);
            scenes.AddRange(trainScenes);
            scenes.AddRange(testScenes);
            output.WriteLine($"{names.Count} objects ({string.Join(", ", names)}), {backgrounds.Count} backgrounds: "
                + $"{trainScenes.Count} teaching scenes, {testScenes.Count} test scenes on other backgrounds");

            // The whole scene is seen (stretch), so an object anywhere in it can be found.
            var features = ModelCatalog.Load(modelName, null, CPU);
            features.Fit = FrameFit.Stretch;
            using var teacher = new HeadTeacher(features, names) { Views = views };
            var clock = Stopwatch.StartNew();
            foreach (var s in trainScenes) teacher.Add(s.Class, s.Image);
            var featureTime = clock.Elapsed;
            var head = teacher.Train(out var trainTime);
            output.WriteLine(Cli.Format($"taught on {trainScenes.Count * views} views: ")
                + Cli.Format($"features {featureTime.TotalSeconds:0.0} s ")
                + Cli.Format($"({featureTime.TotalMilliseconds / (trainScenes.Count * views):0} ms a view), ")
                + Cli.Format($"training {trainTime.TotalMilliseconds:0} ms"));

            using var explained = ModelCatalog.Load(modelName, null, CPU);  // spent once the head is attached
            explained.Fit = FrameFit.Stretch;
            using var model = TaughtModel.Attach(explained, head);
            var explainer = model.CreateExplainer();
            var method = MethodCatalog.Create("gradcam");
            var layer = LayerSelector.Parse(model.DefaultLayer);
            int right = 0, hits = 0, centreHits = 0;
            var perClass = new int[names.Count];
            if (saveFolder is not null) Directory.CreateDirectory(saveFolder);
            for (int i = 0; i < testScenes.Count; i++)
            {
                var s = testScenes[i];
                using var scope = NewDisposeScope();
                var set = explainer.Explain(model.Preprocess(s.Image), method, Target.Class(s.Class), layer);
                var outputs = set.Outputs;
                int predicted = Array.IndexOf(outputs, outputs.Max());
                if (predicted == s.Class) { right++; perClass[s.Class]++; }
                var map = set.Items[0].Map;
                var (my, mx) = map.ArgMax();
                var peak = new Point((mx + 0.5) * Width / map.Width, (my + 0.5) * Height / map.Height);
                bool hit = Inside(peak, s.Box), centreHit = Inside(new Point(Width / 2, Height / 2), s.Box);
                hits += hit ? 1 : 0;
                centreHits += centreHit ? 1 : 0;
                if (saveFolder is not null)
                {
                    using var shown = s.Image.Clone();
                    Cv2.Rectangle(shown, s.Box, new Scalar(0, 255, 0), 2);
                    Cv2.Circle(shown, peak, 8, hit ? new Scalar(0, 255, 0) : new Scalar(0, 0, 255), -1);
                    Cv2.ImWrite(
                        Path.Combine(saveFolder, Cli.Format($"{i:000}-{names[s.Class]}-as-{names[predicted]}.jpg")),
                        shown);
                }
            }
            int n = testScenes.Count;
            output.WriteLine(Cli.Format($"accuracy on unseen scenes: {right}/{n} = {100.0 * right / n:0.0}% (")
                + string.Join(", ", names.Select((c, k) => Cli.Format($"{c} {perClass[k]}/{testPerClass}")))
                + Cli.Format($"; chance {100.0 / names.Count:0}%)"));
            output.WriteLine(Cli.Format($"pointing game (Grad-CAM of the true class, peak within {Tolerance} px ")
                + Cli.Format($"of the box): {hits}/{n} = {100.0 * hits / n:0.0}%; ")
                + Cli.Format($"always the middle: {100.0 * centreHits / n:0.0}%"));
        }
        finally
        {
            foreach (var s in scenes) s.Dispose();
            foreach (var i in objectImages) i.Dispose();
            foreach (var b in backgrounds) b.Dispose();
        }
    }

    static bool Inside(Point p, Rect box) =>
        p.X >= box.X - Tolerance && p.X <= box.Right + Tolerance
            && p.Y >= box.Y - Tolerance && p.Y <= box.Bottom + Tolerance;

    /// <summary>Each object pasted <paramref name="perClass"/> times, 25 to 45% of the scene's height, anywhere it
    /// fits.</summary>
    static List<Scene> Make(List<Mat> objects, List<Mat> backgrounds, int perClass, Random random)
    {
        var scenes = new List<Scene>();
        for (int k = 0; k < objects.Count; k++)
            for (int i = 0; i < perClass; i++)
            {
                var scene = new Mat();
                Cv2.Resize(backgrounds[random.Next(backgrounds.Count)], scene, new OpenCvSharp.Size(Width, Height),
                    interpolation: InterpolationFlags.Area);
                var o = objects[k];
                double h = Height * (0.25 + 0.20 * random.NextDouble());
                double w = h * o.Width / o.Height;
                if (w > Width * 0.5) (w, h) = (Width * 0.5, Width * 0.5 * o.Height / o.Width);
                var box = new Rect(random.Next(Width - (int)w + 1), random.Next(Height - (int)h + 1), (int)w, (int)h);
                using (var resized = new Mat())
                {
                    Cv2.Resize(o, resized, box.Size, interpolation: InterpolationFlags.Area);
                    using var into = new Mat(scene, box);
                    resized.CopyTo(into);
                }
                scenes.Add(new Scene(scene, k, box));
            }
        return scenes;
    }

    static List<Mat> Backgrounds(string source)
    {
        var list = new List<Mat>();
        if (Directory.Exists(source))
        {
            foreach (var f in Directory.GetFiles(source).OrderBy(f => f, StringComparer.Ordinal))
            {
                var m = Cv2.ImRead(f, ImreadModes.Color);
                if (m.Empty()) m.Dispose();
                else list.Add(m);
            }
            return list;
        }
        if (!File.Exists(source)) throw new UsageException($"cannot read '{source}': no such file or folder");
        using var video = new VideoCapture(source);
        if (!video.IsOpened()) throw new UsageException($"cannot read '{source}': not a video OpenCV can open");
        using var frame = new Mat();
        for (int i = 0; video.Read(frame) && !frame.Empty(); i++)
            if (i % 10 == 0) list.Add(frame.Clone());
        return list;
    }
}
