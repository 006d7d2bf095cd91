namespace LiveCam.App.Tests;

/// <summary>Runs the command line in process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = Cli.Invoke(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
