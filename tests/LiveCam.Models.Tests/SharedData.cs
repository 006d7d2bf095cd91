namespace LiveCam.Models.Tests;

/// <summary>The read-only ../shared folder beside the repository (present for developers and CI, absent for
/// users).</summary>
internal static class SharedData
{
    public static string? Find(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "LiveCam.sln"))) continue;
            var path = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", relative));
            return File.Exists(path) || Directory.Exists(path) ? path : null;
        }
        return null;
    }
}
