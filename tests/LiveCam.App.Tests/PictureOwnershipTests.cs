using System.Runtime;
using LiveCam.App.Commands.Robot;
using LiveCam.Core;
using LiveCam.Models.Robot;
using LiveCam.Rendering;
using OpenCvSharp;

namespace LiveCam.App.Tests;

/// <summary>Pictures have one owner: what a method returns is the caller's, and nothing it made on the way is left
/// for the finaliser. Leaked Mats are kept alive by running without garbage collection, so they show as resident
/// memory.</summary>
public sealed class PictureOwnershipTests
{
    static long ResidentBytes() =>
        long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1],
            System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;

    [SkippableFact]
    public void The_robustness_sheet_frees_every_picture_it_makes_on_the_way()
    {
        Skip.IfNot(File.Exists("/proc/self/statm"), "needs /proc (Linux)");
        using var image = new Mat(480, 640, MatType.CV_8UC3, new Scalar(90, 120, 150));
        using var renderer = new CpuPictureRenderer();
        var outputs = new float[325];
        for (int d = 10; d < 65; d++) outputs[d * 5 + 1] = 0.9f;
        var prediction = new RobotPrediction(outputs);
        var analysis = new Analysis(0, TimeSpan.Zero, TimeSpan.Zero, "test")
        {
            Heatmap = new HeatmapImage(2, 2, [0, 0.5f, 0.5f, 1])
        };
        void Once()
        {
            using var panel = RobustnessCommand.Panel(image, analysis, prediction, "case", renderer);
            Assert.Equal((320 * 2 + 120, 240 + 22), (panel.Width, panel.Height));
            using var sheet = RobustnessCommand.Sheet([panel, panel, panel]);
            Assert.Equal((panel.Width * 2, panel.Height * 2), (sheet.Width, sheet.Height));
        }
        for (int i = 0; i < 5; i++) Once();  // warm up: the allocator's pools, the renderer's buffers
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(GC.TryStartNoGCRegion(64 << 20), "could not suspend garbage collection");
        long before = ResidentBytes(), managedBefore = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            // Each round makes ~1 MB of pictures besides the ones the test disposes: a leak of any of them adds up.
            for (int i = 0; i < 100; i++) Once();
        }
        finally
        {
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
        // The managed objects made in the loop stay too (no collection): what grew beyond them is native.
        long managed = GC.GetAllocatedBytesForCurrentThread() - managedBefore;
        long growth = ResidentBytes() - before - managed;
        Assert.True(growth < 8 << 20,
            $"native memory grew by {growth >> 20} MB over 100 sheets ({managed >> 20} MB managed)");
    }
}
