namespace LiveCam.Explain.Kernels;

/// <summary>libtorch's reason for a failure in one line.</summary>
public static class LibTorchError
{
    /// <summary>An error raised inside TorchScript opens with a traceback; its reason is the line naming the
    /// RuntimeError.</summary>
    public static string Reason(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var lines = e.Message.Split('\n');
        var raised = lines.FirstOrDefault(l => l.StartsWith("RuntimeError: ", StringComparison.Ordinal));
        return (raised?["RuntimeError: ".Length..] ?? lines[0]).Trim();
    }
}
