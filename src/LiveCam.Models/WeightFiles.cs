using TorchSharp;

namespace LiveCam.Models;

/// <summary>Loads weights into a network, turning every way a file can be wrong into one clear message.</summary>
public static class WeightFiles
{
    /// <summary>TorchSharp's own format (<c>module.save</c>); the other formats come with their readers.</summary>
    public static void Load(torch.nn.Module network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new ModelLoadException($"cannot load weights '{path}': no such file");
        try
        {
            network.load(path, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException or IOException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new ModelLoadException($"cannot load weights '{path}' into the {network.GetType().Name}: {FirstLine(e.Message)}", e);
        }
    }

    static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
