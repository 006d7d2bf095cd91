namespace LiveCam.Core;

/// <summary>What the analysis stage produced for one frame; always names the frame it explains.</summary>
/// <param name="FrameSequence">The sequence number of the analysed frame.</param>
/// <param name="FrameCaptureTime">That frame's capture time (<see cref="MonotonicClock"/>).</param>
/// <param name="CompletedAt">When the analysis finished (<see cref="MonotonicClock"/>).</param>
/// <param name="AnalyserName">Which analyser made it.</param>
public sealed record Analysis(long FrameSequence, TimeSpan FrameCaptureTime, TimeSpan CompletedAt, string AnalyserName)
{
    public TimeSpan Latency => CompletedAt - FrameCaptureTime;

    /// <summary>The explanation at its own resolution (e.g. 8x10 for a CAM), normalised to [0, 1]; null when none.
    /// </summary>
    public HeatmapImage? Heatmap { get; init; }

    /// <summary>The part of the frame the heatmap covers (the model's input region); null = the whole frame.</summary>
    public PixelRect? HeatmapRegion { get; init; }

    /// <summary>The model's outputs for this frame, from the same forward pass as the heatmap; the model's prediction
    /// head says what they mean and how they are shown.</summary>
    public IReadOnlyList<float>? Outputs { get; init; }

    /// <summary>The output the heatmap explains, when it explains one (a class).</summary>
    public int? ExplainedOutput { get; init; }

    /// <summary>Method, layer and target, for the HUD.</summary>
    public string? Description { get; init; }

    /// <summary>Why this analysis shows no explanation and no predictions ("analysis gave NaN"), shown in their place.
    /// </summary>
    public string? Problem { get; init; }

    /// <summary>Method, layer and target, each by name, for logs; null without a model.</summary>
    public ExplanationChoice? Choice { get; init; }

    /// <summary>When the analysis started (<see cref="MonotonicClock"/>); the frame's capture time when not known.
    /// </summary>
    public TimeSpan StartedAt { get; init; } = FrameCaptureTime;

    /// <summary>A second explanation of the same frame, shown beside the first; null when there is none.</summary>
    public SideExplanation? Side { get; init; }

    /// <summary>What the network wants to see in this frame (DeepDream), shown in place of the part the model sees
    /// (<see cref="HeatmapRegion"/>); null when not dreaming.</summary>
    public BgrImage? Dream { get; init; }
}

/// <summary>A small colour image: BGR bytes, row-major, no padding. Immutable once made.</summary>
public sealed record BgrImage(int Height, int Width, byte[] Pixels);

/// <summary>A second explanation of the same frame (another method, layer or class), and what tells the two apart.
/// </summary>
/// <param name="Heatmap">Null when it could not be made (its label says why).</param>
/// <param name="Region">The part of the frame it covers; null = the whole frame.</param>
public sealed record SideExplanation(HeatmapImage? Heatmap, PixelRect? Region, string LeftLabel, string RightLabel,
    int? ExplainedOutput);

/// <summary>What an analysis explained: the method, the layer (null for methods of the input), the target.</summary>
public sealed record ExplanationChoice(string Method, string? Layer, string Target);

/// <summary>A small single-channel map, row-major, values in [0, 1].</summary>
public sealed record HeatmapImage(int Height, int Width, float[] Values)
{
    public float this[int y, int x] => Values[y * Width + x];
}

/// <summary>A rectangle in frame pixels.</summary>
public readonly record struct PixelRect(int X, int Y, int Width, int Height);
