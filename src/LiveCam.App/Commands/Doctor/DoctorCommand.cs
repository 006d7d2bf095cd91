using System.CommandLine;
using LiveCam.Explain.Kernels;
using LiveCam.Models;

namespace LiveCam.App.Commands.Doctor;

/// <summary><c>livecam doctor</c>: this machine's processor, and whether the kernels LiveCam relies on compute right on
/// it (the start-up check every run makes, with its details).</summary>
internal static class DoctorCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("doctor", "Checks that this processor's kernels compute right (convolutions in every "
            + "layout and fast path, forward and backward) and says what was corrected or avoided. Exit code 1 when "
            + "numbers cannot be trusted.");
        command.SetAction(parsed =>
        {
            ComputeDevice.Select("cpu");
            // The ONNX import's packed convolutions probe themselves at first use.
            var packed = Models.Onnx.OnnxNetwork.PackedConvolutionsAvailable;
            output.WriteLine($"livecam {typeof(DoctorCommand).Assembly.GetName().Version}, "
                + $"TorchSharp {TorchSharp.torch.__version__}");
            var report = CpuKernels.Report();
            output.WriteLine($"packed convolutions (ONNX import, no gradients): {(packed ? "used" : "not used")}");
            foreach (var line in report.Lines()) output.WriteLine(line);
            output.WriteLine($"OpenMP workers (libtorch's): {OpenMpWorkers.Description}");
            return report.Right ? Cli.Ok : Cli.Failure;
        });
        return command;
    }
}
