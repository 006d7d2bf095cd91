namespace LiveCam.App;

public static class Program
{
    public static int Main(string[] args)
    {
        // Before libtorch loads (its OpenMP runtime reads the environment once).
        OpenMpWorkers.SleepBetweenRegions();
        // OpenCV logs its own warnings to stderr (a camera index it cannot open, codec probing); LiveCam reports
        // what failed in one line of its own, so OpenCV stays quiet unless debugging.
        if (Environment.GetEnvironmentVariable("LIVECAM_DEBUG") != "1")
            OpenCvSharp.Cv2.SetLogLevel(OpenCvSharp.LogLevel.SILENT);
        // What the kernel check corrected or avoided on this processor: one line, once.
        Explain.Kernels.CpuKernels.Notify = notice => Console.Error.WriteLine($"livecam: {notice}");
        return Cli.Invoke(args, Console.Out, Console.Error);
    }
}
