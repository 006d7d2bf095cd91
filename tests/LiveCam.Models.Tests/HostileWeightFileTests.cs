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
        Assert.True(allocated < 300_000_000, $"{allocated >> 20} MB allocated reading a {new FileInfo(path).Length >> 10} KB file");
    }
}
