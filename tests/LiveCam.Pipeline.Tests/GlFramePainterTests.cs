using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
using OpenCvSharp;

namespace LiveCam.Pipeline.Tests;

public class GlFramePainterTests
{
    [SkippableFact]
    public void Recorded_frames_are_drawn_by_the_headless_OpenGL_renderer_at_the_frames_size_on_the_thread_it_is_given()
    {
        using var thread = new RenderThread("test-render", TimeSpan.FromSeconds(1));
        GlHeadlessRenderer renderer;
        try { renderer = new GlHeadlessRenderer(thread); }
        catch (RenderingUnavailableException e) { throw new SkipException($"no headless OpenGL here: {e.Message}"); }
        using (renderer)
        {
            var painter = new FramePainter(renderer, new PictureComposer(new PipelineMetrics(), () => "test"));
            var analysis = new Analysis(0, TimeSpan.Zero, TimeSpan.Zero, "test")
            {
                Heatmap = new HeatmapImage(2, 2, [0, 0, 0, 1])
            };
            using var picture = new Mat();
            foreach (var (w, h) in new[] { (320, 240), (200, 150), (320, 240) })
            {
                using var frame = new Frame(
                    new Mat(h, w, MatType.CV_8UC3, new Scalar(90, 90, 90)), 0, TimeSpan.Zero, "test");
                painter.Paint(frame, analysis, picture);
                Assert.Equal((w, h), (picture.Width, picture.Height));
                // Where the map is 0: grey blended 45% with jet's dark blue (BGR 128, 0, 0); the HUD is at the top.
                var cold = picture.At<Vec3b>(h - 5, 5);
                Assert.InRange(cold.Item0, 104, 110);
                Assert.InRange(cold.Item2, 47, 52);
            }
        }
    }
}
