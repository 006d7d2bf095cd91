namespace LiveCam.Core.Tests;

/// <summary>House rules of the source that a build does not check by itself.</summary>
public class SourceLayoutTests
{
    const int MaxColumns = 120;

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LiveCam.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no LiveCam.sln above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void No_line_of_CSharp_is_wider_than_120_columns()
    {
        var root = RepositoryRoot();
        var wide = new List<string>();
        foreach (var folder in new[] { "src", "tests" })
            foreach (var file in Directory.EnumerateFiles(
                Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(root, file);
                if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj")) continue;
                int number = 0;
                foreach (var line in File.ReadLines(file))
                {
                    number++;
                    if (line.Length > MaxColumns) wide.Add($"{relative}:{number} ({line.Length})");
                }
            }
        Assert.True(wide.Count == 0,
            $"{wide.Count} lines over {MaxColumns} columns:\n{string.Join('\n', wide.Take(40))}");
    }
}
