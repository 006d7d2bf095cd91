using TorchSharp;

namespace LiveCam.Models;

/// <summary>Chooses the torch device at run time: CUDA when present (and asked for, or "auto"), else the CPU.</summary>
public static class ComputeDevice
{
    /// <param name="request">"auto", "cpu", "cuda" or "cuda:N".</param>
    /// <exception cref="ArgumentException">CUDA was asked for and is not available, or the name is unknown.</exception>
    public static torch.Device Select(string request = "auto")
    {
        ArgumentNullException.ThrowIfNull(request);
        // Before any network runs, the CPU kernels are checked (and corrected where this processor misleads them).
        Explain.Kernels.CpuKernels.EnsureChecked();
        var r = request.Trim().ToLowerInvariant();
        if (r == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (r == "cpu") return torch.CPU;
        if (r == "cuda" || r.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new ArgumentException($"device '{request}': CUDA is not available here " +
                    $"(this TorchSharp build or machine has none); use cpu or auto");
            if (r == "cuda") return torch.CUDA;
            if (!int.TryParse(r["cuda:".Length..], out var index) || index < 0 || index >= torch.cuda.device_count())
                throw new ArgumentException($"device '{request}': there are {torch.cuda.device_count()} CUDA devices");
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"device '{request}': expected auto, cpu, cuda or cuda:N");
    }
}
