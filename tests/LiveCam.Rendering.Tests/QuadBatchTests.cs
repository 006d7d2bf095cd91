using LiveCam.Rendering.Contexts;
using LiveCam.Drawing;
using LiveCam.Rendering.Gl;
using OpenCvSharp;

namespace LiveCam.Rendering.Tests;

public sealed class QuadBatchTests
{
    static EglHeadlessContext Context() => HeadlessGl.Context();

    internal static Mat Render(Action<QuadList> draw, int width = 320, int height = 240)
    {
        using var context = Context();
        using var batch = new QuadBatch(context.Gl, GlyphAtlas.Shared);
        var quads = new QuadList(GlyphAtlas.Shared);
        using var target = new GlFramebuffer(context.Gl, width, height);
        target.Bind();
        context.Gl.ClearColor(0.5f, 0.5f, 0.5f, 1);
        context.Gl.Clear(Silk.NET.OpenGL.ClearBufferMask.ColorBufferBit);
        draw(quads);
        batch.Draw(quads.Items, width, height, flipY: false);
        return target.ReadBgr();
    }

    [SkippableFact]
    public void Text_is_drawn_where_it_is_asked_for_and_nowhere_else()
    {
        using var image = Render(quads => quads.Text("LiveCam 30 fps", 10, 10, 1.5f, Rgba.White));
        using var grey = new Mat();
        Cv2.CvtColor(image, grey, ColorConversionCodes.BGR2GRAY);
        using var inside = new Mat(grey, new Rect(8, 8, 160, 30));
        using var outside = new Mat(grey, new Rect(0, 60, 320, 180));
        Cv2.MinMaxLoc(inside, out _, out double brightest);
        Cv2.MinMaxLoc(outside, out double low, out double high);
        Assert.True(brightest > 220, $"no bright text pixels (max {brightest})");
        Assert.Equal((128.0, 128.0), (low, high));
    }

    [SkippableFact]
    public void Batches_reuse_their_GL_objects_frame_after_frame()
    {
        using var context = Context();
        long before = GlObject.Live;
        using (var batch = new QuadBatch(context.Gl, GlyphAtlas.Shared))
        using (var target = new GlFramebuffer(context.Gl, 64, 64))
        {
            long during = GlObject.Live;
            for (int i = 0; i < 500; i++)
            {
                target.Bind();
                var quads = new QuadList(GlyphAtlas.Shared);
                quads.Text($"frame {i}", 2, 2, 1, Rgba.White);
                quads.Rectangle(0, 40, 64, 10, new Rgba(1, 0, 0));
                batch.Draw(quads.Items, 64, 64, flipY: false);
            }
            Assert.Equal(during, GlObject.Live);
            Assert.Equal(Silk.NET.OpenGL.GLEnum.NoError, context.Gl.GetError());
        }
        Assert.Equal(before, GlObject.Live);
    }
}
