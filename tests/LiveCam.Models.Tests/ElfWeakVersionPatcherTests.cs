using LiveCamBuild;

namespace LiveCam.Models.Tests;

/// <summary>The build-time fix for LibTorchSharp (src/Build/ElfWeakVersionPatcher.cs).</summary>
public sealed class ElfWeakVersionPatcherTests : IDisposable
{
    const string Version = "GLIBCXX_3.4.32";
    static readonly string[] s_libm = ["/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6"];
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-elf-").FullName;

    static string? OutputLibrary() =>
        Directory.EnumerateFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories)
            .FirstOrDefault();

    /// <summary>The pristine library from the NuGet cache (found from the output copy's package layout).</summary>
    static string? PristineLibrary()
    {
        var home = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var dir = Path.Combine(home, "torchsharp");
        if (!Directory.Exists(dir)) return null;
        return Directory.EnumerateFiles(dir, "libLibTorchSharp.so", SearchOption.AllDirectories).FirstOrDefault();
    }

    [SkippableFact]
    public void Patching_marks_the_requirement_weak_once_and_is_idempotent()
    {
        var pristine = PristineLibrary();
        Skip.If(pristine is null, "no TorchSharp package in the NuGet cache");
        var copy = Path.Combine(_dir, "libLibTorchSharp.so");
        File.Copy(pristine!, copy);
        var before = File.ReadAllBytes(copy);

        Assert.Equal(PatchResult.Patched, ElfWeakVersionPatcher.Inspect(copy, Version) == PatchResult.AlreadyWeak
            ? PatchResult.Patched : ElfWeakVersionPatcher.MakeWeak(copy, Version));
        Assert.Equal(PatchResult.AlreadyWeak, ElfWeakVersionPatcher.Inspect(copy, Version));
        Assert.Equal(PatchResult.AlreadyWeak, ElfWeakVersionPatcher.MakeWeak(copy, Version));

        // Exactly one byte changes: the flags of that one requirement.
        var after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        Assert.Single(Enumerable.Range(0, before.Length), i => before[i] != after[i]);
        // The cache's copy is untouched.
        Assert.NotEqual(PatchResult.AlreadyWeak, ElfWeakVersionPatcher.Inspect(pristine!, Version));
    }

    [SkippableFact]
    public void The_build_output_copy_is_patched_only_where_the_system_lacks_the_version()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "Linux only");
        var output = OutputLibrary();
        Assert.NotNull(output);
        var expected = ElfWeakVersionPatcher.SystemLibStdCxxHas(Version)
            ? PatchResult.Patched
            : PatchResult.AlreadyWeak;
        Assert.Equal(expected, ElfWeakVersionPatcher.Inspect(output!, Version));
    }

    [Fact]
    public void A_file_that_is_not_an_ELF_library_is_reported_and_left_alone()
    {
        var garbage = Path.Combine(_dir, "garbage.so");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 4096).Select(i => (byte)(i * 31)).ToArray());
        var before = File.ReadAllBytes(garbage);
        Assert.Equal(PatchResult.NotElf, ElfWeakVersionPatcher.MakeWeak(garbage, Version));
        Assert.Equal(before, File.ReadAllBytes(garbage));
    }

    [SkippableFact]
    public void A_library_without_the_requirement_is_reported_as_such()
    {
        var libc = s_libm.FirstOrDefault(File.Exists);
        Skip.If(libc is null, "no libm to read");
        Assert.Equal(PatchResult.NoSuchRequirement, ElfWeakVersionPatcher.Inspect(libc!, Version));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
