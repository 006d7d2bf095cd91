using System.Globalization;
using System.Reactive.Concurrency;
using System.Text;
using System.Text.Json;
using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Pipeline.Sinks;
using OpenCvSharp;

namespace LiveCam.Pipeline.Recording;

/// <summary>
/// <c>--record DIR</c>: the shown video in segments that each stay playable once finished, whatever happens after
/// (a killed process, a power cut), and the analysis log beside them. A segment is written as
/// <c>segment-NNNNN.partial.mp4</c> and becomes <c>segment-NNNNN.mp4</c> only when it is closed, read back and on the
/// disk; <c>segments.jsonl</c> then lists the frames it holds and the analysis shown with each. When the disk fills or
/// the folder stops taking writes, recording stops with one message and the run goes on; what was finished stays as it
/// was.
/// </summary>
public sealed class SegmentedRecording : IFrameSink
{
    /// <summary>Room kept free: a segment is not started, and recording stops, with less than this left.</summary>
    public const long MinimumFreeBytes = 4 << 20;

    readonly string _dir;
    readonly int _width, _height;
    readonly double _fps;
    readonly int _framesPerSegment;
    readonly IFramePainter _painter;
    readonly IScheduler? _encoder;
    readonly Action<string> _say;
    readonly AnalysisLog _log;
    readonly FileStream _index;
    readonly object _gate = new();       // the segment being written (display thread) and the stop
    readonly object _logGate = new();    // log.jsonl (analysis thread; synced when a segment is finished)
    readonly object _indexGate = new();  // segments.jsonl and the counts (wherever segments are finished)
    string? _failure;
    // The segment's frames, each with the frame whose analysis was drawn over it (-1: none yet).
    readonly List<(long Frame, long Analysed)> _shown = [];
    VideoFileSink? _current;
    string? _currentPartial;
    long _largestSegment;  // Interlocked
    long _finishedBytes, _finishedFrames;  // under _indexGate
    int _segments;
    bool _stopped, _disposed, _logClosed;

    /// <param name="segmentSeconds">Video seconds per segment.</param>
    /// <param name="say">Where the one message about a stopped recording goes.</param>
    /// <exception cref="SinkException">The folder cannot be made or written.</exception>
    public SegmentedRecording(
        string dir, int width, int height, double fps, double segmentSeconds, IFramePainter painter,
        RecordingContext context, Action<string> say, IScheduler? encoder = null)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (segmentSeconds <= 0)
            throw new ArgumentOutOfRangeException(nameof(segmentSeconds), "a segment lasts more than 0 s");
        _dir = System.IO.Path.GetFullPath(dir);
        _painter = painter ?? throw new ArgumentNullException(nameof(painter));
        _say = say ?? throw new ArgumentNullException(nameof(say));
        (_width, _height, _fps, _encoder) = (width, height, fps > 0 ? fps : 30, encoder);
        _framesPerSegment = Math.Max(1, (int)Math.Round(segmentSeconds * _fps));
        try
        {
            Directory.CreateDirectory(_dir);
            // One recording per folder: frame numbers start again with every run, so two runs' logs would mix.
            if (File.Exists(System.IO.Path.Combine(_dir, "segments.jsonl"))
                || File.Exists(System.IO.Path.Combine(_dir, "log.jsonl")))
                throw new SinkException($"cannot record to '{dir}': it already holds a recording; give a new folder");
            _log = new AnalysisLog(System.IO.Path.Combine(_dir, "log.jsonl"), context);
            _index = new FileStream(
                System.IO.Path.Combine(_dir, "segments.jsonl"), FileMode.Append, FileAccess.Write, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log?.Dispose();
            throw new SinkException($"cannot record to '{dir}': {e.Message}", e);
        }
    }

    public string Folder => _dir;

    int _finishedSegments;

    /// <summary>Segments finished (closed, checked and on the disk) in this run.</summary>
    public int FinishedSegments { get { lock (_indexGate) return _finishedSegments; } }

    /// <summary>What the recording holds on the disk, in bytes: its finished segments, its log and its index.</summary>
    public long FinishedBytes
    {
        get
        {
            long Length(string name) =>
                new FileInfo(System.IO.Path.Combine(_dir, name)) is { Exists: true } f ? f.Length : 0;
            lock (_indexGate) return _finishedBytes + Length("log.jsonl") + Length("segments.jsonl");
        }
    }

    /// <summary>The finished segments' length as video, in seconds.</summary>
    public double FinishedSeconds { get { lock (_indexGate) return _finishedFrames / _fps; } }

    /// <summary>Whether recording stopped early (disk full, folder not writable).</summary>
    public bool Stopped { get { lock (_gate) return _stopped; } }

    public void Show(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_stopped) return;
            if (Volatile.Read(ref _failure) is { } failure)
            {
                Stop(failure);
                return;
            }
            try
            {
                if (_current is null && !StartSegment()) return;
                // Once a second, the room left: a disk that fills stops the recording before a segment breaks.
                if (_shown.Count > 0 && _shown.Count % Math.Max(1, (int)_fps) == 0 && FreeBytes() < Reserve())
                {
                    Stop($"{_dir} is nearly full ({FreeBytes() >> 20} MB free)");
                    return;
                }
                _current!.Show(frame, analysis);
                _shown.Add((frame.Sequence, analysis?.FrameSequence ?? -1));
                if (_shown.Count >= _framesPerSegment) FinishSegment();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException
                or SinkException or OpenCVException)
            {
                Stop(e.Message);
            }
        }
    }

    /// <summary>Logs an analysis (any thread); a log that cannot be written stops the recording.</summary>
    public void OnAnalysed(Analysis analysis)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        lock (_logGate)
        {
            if (Volatile.Read(ref _stopped) || Volatile.Read(ref _failure) is not null || _logClosed) return;
            try { _log.Write(analysis); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Stopped by the display thread at its next frame (it owns the segment being written).
                Interlocked.CompareExchange(ref _failure, $"the log could not be written: {e.Message}", null);
            }
        }
    }

    long FreeBytes()
    {
        try { return new DriveInfo(_dir).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return long.MaxValue;
        }
    }

    long Reserve() => Math.Max(MinimumFreeBytes, Interlocked.Read(ref _largestSegment));

    bool StartSegment()
    {
        if (FreeBytes() < Reserve())
        {
            Stop($"{_dir} is nearly full ({FreeBytes() >> 20} MB free)");
            return false;
        }
        _current = new VideoFileSink(System.IO.Path.Combine(_dir, Invariant($"segment-{_segments:00000}.mp4")),
            _width, _height, _fps, _painter, _encoder);
        _currentPartial = _current.PartialPath;
        _shown.Clear();
        return true;
    }

    /// <summary>Hands the segment over to be finished: on the encoder's thread when there is one (closing, reading
    /// back and syncing take 10-80 ms, which the display must not wait for), in order.</summary>
    void FinishSegment()
    {
        var (sink, partial) = (_current!, _currentPartial!);
        var frames = _shown.Select(s => s.Frame).ToArray();
        var analyses = _shown.Select(s => s.Analysed).ToArray();
        (_current, _currentPartial) = (null, null);
        _shown.Clear();
        _segments++;
        if (_encoder is null)
        {
            Complete(sink, partial, frames, analyses);
            return;
        }
        _encoder.Schedule(() => Complete(sink, partial, frames, analyses));
    }

    /// <summary>Closes the segment, reads it back, puts it on the disk and only then gives it its final name and its
    /// line in segments.jsonl. A failure is reported to the display thread, which stops the recording.</summary>
    void Complete(VideoFileSink sink, string partial, long[] frames, long[] analyses)
    {
        try
        {
            // Closed, read back whole, synced and renamed by the sink (nothing kept without frames).
            sink.Dispose();
            if (frames.Length == 0) return;
            var name = System.IO.Path.GetFileName(sink.Path);
            var final = sink.Path;
            var entry = new Dictionary<string, object?>
            {
                ["file"] = name,
                ["fps"] = _fps,
                ["first_frame"] = frames[0],
                ["last_frame"] = frames[^1],
                ["frames"] = frames,
                // With each frame, the frame whose analysis was drawn over it (-1: none yet): replay finds its log
                // line.
                ["analysed_frames"] = analyses,
            };
            long size = new FileInfo(final).Length;
            lock (_indexGate)
            {
                _index.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(entry) + "\n"));
                _index.Flush(flushToDisk: true);
                _finishedSegments++;
                _finishedBytes += size;
                _finishedFrames += frames.Length;
            }
            if (size > Interlocked.Read(ref _largestSegment)) Interlocked.Exchange(ref _largestSegment, size);
            lock (_logGate) if (!_logClosed) _log.Sync();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OpenCVException or SinkException)
        {
            TryDelete(partial);
            Interlocked.CompareExchange(ref _failure, e.Message, null);
        }
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    void Stop(string reason)
    {
        if (_stopped) return;
        _stopped = true;
        try { _current?.Dispose(); }
        catch (Exception e) when (e is IOException or OpenCVException or SinkException) { }
        _current = null;
        // The segment being written when the disk filled is not one that can be trusted.
        if (_currentPartial is not null) TryDelete(_currentPartial);
        _say(Invariant(
            $"recording stopped: {reason}; the run goes on (the finished segments and the log are kept in {_dir})"));
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            if (!_stopped && _current is not null) FinishSegment();
            _disposed = true;
        }
        // Segments being finished on the encoder's thread are finished before the files close: it runs its work in
        // order.
        if (_encoder is not null)
        {
            using var drained = new ManualResetEventSlim();
            _encoder.Schedule(drained.Set);
            drained.Wait();
        }
        lock (_gate)
        {
            if (!_stopped && Volatile.Read(ref _failure) is { } failure) Stop(failure);
        }
        lock (_logGate)
        {
            _logClosed = true;
            _log.Dispose();
        }
        lock (_indexGate) _index.Dispose();
    }
}
