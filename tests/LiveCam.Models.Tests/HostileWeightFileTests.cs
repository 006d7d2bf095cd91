using LiveCam.Models.Weights;
using LiveCam.Tests;

namespace LiveCam.Models.Tests;

/// <summary>Tiny files that declare huge tensors (written by real torch.save, then edited as an attacker would) are
/// refused naming what is wrong, before anything that size is allocated or inflated.</summary>
public sealed class HostileWeightFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-hostile-pt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableTheory]
    [InlineData("stride0.pt", "w declares 2000000000 values, more than a file this size can hold")]
    [InlineData("bomb.pt", "holds 1073741824 bytes; its tensors need 16")]
    [InlineData("pklbomb.pt", "data.pkl inflates to over 64 MB")]
    public void A_file_declaring_more_than_it_holds_is_refused_without_taking_the_memory(string name, string expected)
    {
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        PyTorchOracle.Script("torch_hostile.py", _dir);
        var path = Path.Combine(_dir, name);
        Assert.True(new FileInfo(path).Length < 2_000_000);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<InvalidDataException>(() => TorchFileReader.Read(path));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 300_000_000,
            $"{allocated >> 20} MB allocated reading a {new FileInfo(path).Length >> 10} KB file");
    }

    [SkippableFact]
    public void A_tensor_of_a_shape_the_network_does_not_take_is_refused_before_it_is_materialised()
    {
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        PyTorchOracle.Script("torch_hostile.py", _dir);
        var path = Path.Combine(_dir, "wide.pt");
        var network = new Dictionary<string, long[]> { ["w"] = [4] };
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<InvalidDataException>(() => TorchFileReader.Read(path, network));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal("w is 10000000 in the file, the network expects 4", e.Message);
        Assert.True(allocated < 8_000_000, $"{allocated >> 20} MB allocated");

        // The same file is within what its size allows: without the network's shapes it is read, 40 MB of it.
        before = GC.GetTotalAllocatedBytes(precise: true);
        Assert.Equal(10_000_000, TorchFileReader.Read(path)["w"].Values.Length);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before >= 40_000_000);
    }

    [Fact]
    public void A_safetensors_tensor_of_another_shape_is_refused_before_its_bytes_are_read()
    {
        var path = Path.Combine(_dir, "w.safetensors");
        var header = """{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}"""u8.ToArray();
        using (var file = File.Create(path))
        {
            file.Write(BitConverter.GetBytes((ulong)header.Length));
            file.Write(header);
            file.Write(new byte[16]);
        }
        Assert.Equal([2, 2], TorchFileReader.Read(path)["w"].Shape);
        var e = Assert.Throws<InvalidDataException>(() =>
            TorchFileReader.Read(path, new Dictionary<string, long[]> { ["w"] = [4] }));
        Assert.Equal("w is 2x2 in the file, the network expects 4", e.Message);
    }
}
