using LiveCam.Models.Weights;
using static TorchSharp.torch;

namespace LiveCam.Models;

/// <summary>Loads weights into a network, turning every way a file can be wrong into one clear message.</summary>
public static class WeightFiles
{
    /// <summary>
    /// PyTorch files (legacy and zip <c>torch.save</c>, whole modules or state dicts) and safetensors are read by
    /// <see cref="TorchFileReader"/>; anything else is taken as TorchSharp's own format (<c>module.save</c>).
    /// </summary>
    /// <param name="optional">Name prefixes of tensors that may be missing from the file or from the network
    /// (training-only heads); those present in both are loaded.</param>
    public static void Load(nn.Module network, string path, IReadOnlyList<string>? optional = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new ModelLoadException($"cannot load weights '{path}': no such file");
        if (IsPyTorchOrSafetensors(path))
        {
            IReadOnlyDictionary<string, TensorData> tensors;
            try { tensors = TorchFileReader.Read(path, Shapes(network)); }
            catch (Exception e) when (e is InvalidDataException or IOException or InvalidCastException
                or OverflowException or ArgumentException)
            {
                throw new ModelLoadException($"cannot load weights '{path}': {FirstLine(e.Message)}", e);
            }
            Assign(network, tensors, path, optional);
            return;
        }
        try
        {
            network.load(path, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException
            or IOException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new ModelLoadException(
                $"cannot load weights '{path}' into the {network.GetType().Name}: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>Every parameter and buffer of the network, by its dotted name: what a weight file fills.</summary>
    static IEnumerable<(string Name, Tensor Tensor)> Slots(nn.Module network) =>
        network.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
            .Concat(network.named_buffers().Select(b => (b.name, b.buffer)));

    /// <summary>Every parameter's and buffer's shape, by name.</summary>
    static Dictionary<string, long[]> Shapes(nn.Module network) =>
        Slots(network).ToDictionary(t => t.Name, t => t.Tensor.shape);

    static bool IsPyTorchOrSafetensors(string path)
    {
        var head = new byte[9];
        using (var f = File.OpenRead(path))
            if (f.Read(head, 0, head.Length) < head.Length) return false;
        if (head[0] == 'P' && head[1] == 'K') return true;      // zip (torch.save since 1.6)
        if (head[0] == 0x80 && head[1] <= 5) return true;       // a pickle (legacy torch.save)
        return BitConverter.ToUInt64(head) is > 1 and < 100_000_000 && head[8] == '{';  // safetensors' JSON header
    }

    /// <summary>Copies tensors into the network's parameters and buffers by name, checking that every one is there with
    /// its shape.</summary>
    public static void Assign(nn.Module network, IReadOnlyDictionary<string, TensorData> tensors, string source,
        IReadOnlyList<string>? optional = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(tensors);
        bool Optional(string name) => optional?.Any(p => name.StartsWith(p, StringComparison.Ordinal)) == true;
        var targets = Slots(network).Select(s => (name: s.Name, t: s.Tensor))
            .Where(t => tensors.ContainsKey(t.name) || !Optional(t.name)).ToList();
        var missing = targets.Where(t => !tensors.ContainsKey(t.name)).Select(t => t.name).ToList();
        if (missing.Count > 0)
            throw new ModelLoadException(
                $"cannot load weights '{source}': it lacks {string.Join(", ", missing.Take(4))}" +
                $"{(missing.Count > 4 ? $" and {missing.Count - 4} more" : "")}" +
                $" (it has {string.Join(", ", tensors.Keys.Take(4))}...)");
        var known = targets.Select(t => t.name).ToHashSet();
        var extra = tensors.Keys.Where(k => !known.Contains(k)
            && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal) && !Optional(k)).ToList();
        if (extra.Count > 0)
            throw new ModelLoadException($"cannot load weights '{source}': it has {string.Join(", ", extra.Take(4))}," +
                $" which the {network.GetType().Name} does not");
        using var _ = no_grad();
        foreach (var (name, target) in targets)
        {
            var data = tensors[name];
            if (!data.Shape.SequenceEqual(target.shape))
                throw new ModelLoadException($"cannot load weights '{source}': {name} is {data.ShapeText} " +
                    $"in the file, the network expects {string.Join('x', target.shape)}");
            using var value = tensor(data.Values, data.Shape).to(target.device).to_type(target.dtype);
            target.copy_(value);
        }
    }

    static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
