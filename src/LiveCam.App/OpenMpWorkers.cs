using System.Runtime.InteropServices;

namespace LiveCam.App;

/// <summary>
/// libtorch's OpenMP workers (GNU libgomp) spin after each parallel region, for milliseconds, waiting for the next.
/// On a machine with few cores that time is taken from whatever runs next: the display and the encoder, and ONNX
/// Runtime's own workers when it runs the part without gradients (measured here: its forward pass 13 ms with sleeping
/// workers, 17-29 ms beside spinning ones). So LiveCam asks them to sleep at once, unless the user chose a policy.
/// </summary>
/// <remarks>libgomp reads its environment once, when libtorch loads: this runs first in Main. On Linux .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach the C library's environment, which
/// libgomp reads, hence setenv.</remarks>
internal static partial class OpenMpWorkers
{
    const string Policy = "OMP_WAIT_POLICY";

    /// <summary>What the workers do between regions, and who chose it; for <c>livecam doctor</c>.</summary>
    public static string Description { get; private set; } = "as the OpenMP runtime's default (spin, then sleep)";

    public static void SleepBetweenRegions()
    {
        if (Environment.GetEnvironmentVariable(Policy) is { } chosen)
        {
            Description = $"{Policy}={chosen}, as set";
            return;
        }
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            if (SetEnv(Policy, "PASSIVE", 0) == 0)
                Description = $"sleep between parallel regions ({Policy}=PASSIVE, LiveCam's default)";
        }
        catch (EntryPointNotFoundException) { }
        catch (DllNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
