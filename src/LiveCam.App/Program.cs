using System.CommandLine;
using LiveCam.App.Commands;

namespace LiveCam.App;

public static class Program
{
    public static int Main(string[] args) => Cli.Invoke(args, Console.Out, Console.Error);
}
