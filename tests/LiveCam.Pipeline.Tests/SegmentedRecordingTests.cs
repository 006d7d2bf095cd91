using System.Text.Json;
using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Pipeline.Recording;
using OpenCvSharp;

namespace LiveCam.Pipeline.Tests;

public sealed class SegmentedRecordingTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-record-").FullName;

    /// <summary>Draws the frame as it is.</summary>
    sealed class CopyPainter : IFramePainter
    {
        public void Paint(Frame frame, Analysis? analysis, Mat into) => frame.Pixels.CopyTo(into);
    }

    static Frame NumberedFrame(long sequence)
    {
        var pixels = new Mat(48, 64, MatType.CV_8UC3, new Scalar(sequence * 3 % 250, 40, 90));
        return new Frame(pixels, sequence, TimeSpan.FromSeconds(sequence / 10.0), "test");
    }

    static Analysis AnalysisOf(long sequence) =>
        new(sequence, TimeSpan.FromSeconds(sequence / 10.0), TimeSpan.FromSeconds(sequence / 10.0 + 0.025), "test")
    {
        StartedAt = TimeSpan.FromSeconds(sequence / 10.0 + 0.005),
        Outputs = [sequence, 0.5f],
        Choice = new ExplanationChoice("gradcam", "encoder.6", "all outputs"),
    };

    static RecordingContext Context() => new("test source", "model", "weights.dat",
        (outputs, _, _) => new Dictionary<string, object?> { ["first"] = outputs[0] });

    [Fact]
    public void Shown_frames_go_into_closed_segments_listed_with_their_frames_and_every_analysis_into_the_log()
    {
        var messages = new List<string>();
        using (var recording = new SegmentedRecording(
            _dir, 64, 48, 10, segmentSeconds: 1, new CopyPainter(), Context(), messages.Add))
        {
            for (long i = 0; i < 25; i++)
            {
                if (i % 2 == 0) recording.OnAnalysed(AnalysisOf(i));
                using var frame = NumberedFrame(i);
                // Shown with the analysis of the even frame before it (none for frame 0).
                recording.Show(frame, i == 0 ? null : AnalysisOf((i - 1) / 2 * 2));
            }
            Assert.Equal(2, recording.FinishedSegments);
            // The third segment is being written: only its partial file exists.
            Assert.Single(Directory.GetFiles(_dir, "*.partial.mp4"));
        }
        Assert.Empty(messages);
        Assert.Empty(Directory.GetFiles(_dir, "*.partial.mp4"));
        var index = File.ReadAllLines(Path.Combine(_dir, "segments.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, index.Count);
        long expected = 0;
        foreach (var entry in index)
        {
            var frames = entry.GetProperty("frames").EnumerateArray().Select(f => f.GetInt64()).ToList();
            Assert.Equal(expected, frames[0]);
            expected = frames[^1] + 1;
            using var capture = new VideoCapture(Path.Combine(_dir, entry.GetProperty("file").GetString()!));
            Assert.True(capture.IsOpened());
            Assert.Equal(frames.Count, (int)capture.Get(VideoCaptureProperties.FrameCount));
        }
        Assert.Equal(25, expected);
        // Read back, each frame finds the log line of the analysis that was drawn over it.
        var read = RecordingIndex.Read(_dir);
        var pairs = read.Segments.SelectMany(g => g.Frames.Zip(g.AnalysedFrames)).ToList();
        Assert.Equal(25, pairs.Count);
        Assert.Null(read.AnalysisFor(pairs[0].Second));
        foreach (var (frame, analysed) in pairs.Skip(1))
        {
            Assert.Equal((frame - 1) / 2 * 2, analysed);
            Assert.Equal(analysed, read.AnalysisFor(analysed)!.Frame);
            Assert.Equal(analysed, read.AnalysisFor(analysed)!.Outputs![0]);
        }
        Assert.Equal(10, read.FramesBefore("1.0"));
        Assert.Equal(12, read.FramesBefore("1.25"));
        Assert.Throws<ArgumentException>(() => read.FramesBefore("3"));
        Assert.Throws<ArgumentException>(() => read.FramesBefore("soon"));
        var log = File.ReadAllLines(Path.Combine(_dir, "log.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(13, log.Count);
        var line = log[3];
        Assert.Equal(6, line.GetProperty("frame").GetInt64());
        Assert.Equal("test source", line.GetProperty("source").GetString());
        Assert.Equal("gradcam", line.GetProperty("method").GetString());
        Assert.Equal("encoder.6", line.GetProperty("layer").GetString());
        Assert.Equal(6, line.GetProperty("predictions").GetProperty("first").GetSingle());
        Assert.Equal(20, line.GetProperty("analysis_ms").GetDouble(), 3);
        Assert.Equal(25, line.GetProperty("latency_ms").GetDouble(), 3);
        Assert.Equal(0.6, line.GetProperty("capture_monotonic_s").GetDouble(), 6);
        Assert.True(DateTime.TryParse(line.GetProperty("capture_utc").GetString(), out _));
    }

    [Fact]
    public void A_folder_that_holds_a_recording_is_not_recorded_into_again()
    {
        using (var first = new SegmentedRecording(_dir, 64, 48, 10, 1, new CopyPainter(), Context(), _ => { }))
        {
            using var frame = NumberedFrame(0);
            first.Show(frame, null);
        }
        var e = Assert.Throws<Sinks.SinkException>(() =>
            new SegmentedRecording(_dir, 64, 48, 10, 1, new CopyPainter(), Context(), _ => { }));
        Assert.Contains("already holds a recording", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_that_cannot_be_made_is_one_clear_error()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "");
        var e = Assert.Throws<Sinks.SinkException>(() => new SegmentedRecording(
            Path.Combine(file, "sub"), 64, 48, 10, 1, new CopyPainter(), Context(), _ => { }));
        Assert.Contains("cannot record to", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
