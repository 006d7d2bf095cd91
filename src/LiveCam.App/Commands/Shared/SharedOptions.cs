using System.CommandLine;

namespace LiveCam.App.Commands.Shared;

/// <summary>
/// The options several commands take, each declared here once: its name, its short alias and its type stay the same
/// wherever it appears. What it means is the command's to say (<c>--out</c> of <c>run</c> records video, of
/// <c>explain</c> writes a PNG), so each command passes its own description and default.
/// </summary>
/// <remarks><c>shortAlias: false</c> keeps a command without the alias it has never had, so its help stays as it was.
/// <c>--renderer</c> is declared by <see cref="RendererChoice.Option"/>, beside what reads it. Options that share only
/// a name (<c>--images</c>: a list, a folder or several arguments; <c>--steps</c>, <c>--test</c>) are different options
/// and stay with their commands.</remarks>
internal static class SharedOptions
{
    /// <summary><c>--out</c>, <c>-o</c>: where a command writes what it makes.</summary>
    public static Option<string?> Out(string description, bool required = false) =>
        new("--out", "-o") { Description = description, Required = required };

    /// <summary><c>--json</c>: the numbers behind a picture or a table, as JSON.</summary>
    public static Option<string?> Json(string description) => new("--json") { Description = description };

    /// <summary><c>--frames</c>, <c>-n</c>: how many frames to take; no default shown (0 means no limit).</summary>
    public static Option<long> Frames(string description) => new("--frames", "-n") { Description = description };

    /// <summary><c>--frames</c>, <c>-n</c>: how many frames to take, <paramref name="defaultValue"/> unless
    /// told.</summary>
    public static Option<int> Frames(string description, int defaultValue, bool shortAlias = true) =>
        new("--frames", Alias(shortAlias, "-n")) { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary><c>--runs</c>, <c>-n</c>: timed runs per measurement.</summary>
    public static Option<int> Runs(string description, int defaultValue) =>
        new("--runs", "-n") { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary><c>--source</c>, <c>-s</c>: what frames come from.</summary>
    public static Option<string> Source(string description, string defaultValue, bool shortAlias = true) =>
        new("--source", Alias(shortAlias, "-s")) { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary><c>--size</c>: a frame size, WIDTHxHEIGHT.</summary>
    public static Option<string?> Size(string description, string? defaultValue = null) =>
        WithDefault(new Option<string?>("--size") { Description = description }, defaultValue);

    /// <summary><c>--seed</c>: the seed of what is generated.</summary>
    public static Option<int> Seed(string description, int defaultValue) =>
        new("--seed") { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary><c>--model</c>, <c>-m</c>: a network, by name or file.</summary>
    public static Option<string?> Model(string description, string? defaultValue = null, bool shortAlias = true) =>
        WithDefault(
            new Option<string?>("--model", Alias(shortAlias, "-m")) { Description = description }, defaultValue);

    /// <summary><c>--weights</c>, <c>-w</c>: a weight file for the network.</summary>
    public static Option<string?> Weights(string description) => new("--weights", "-w") { Description = description };

    /// <summary><c>--device</c>: where a network runs; auto unless told.</summary>
    public static Option<string> Device(string description) =>
        new("--device") { Description = description, DefaultValueFactory = _ => "auto" };

    /// <summary><c>--threads</c>: CPU threads for the network.</summary>
    public static Option<int> Threads(string description, int? defaultValue = null)
    {
        var option = new Option<int>("--threads") { Description = description };
        if (defaultValue is { } value) option.DefaultValueFactory = _ => value;
        return option;
    }

    /// <summary><c>--head</c>: a taught head (<c>livecam teach</c>).</summary>
    public static Option<string?> Head(string description) => new("--head") { Description = description };

    /// <summary><c>--image</c>, <c>-i</c>: one image to work on.</summary>
    public static Option<string?> Image(string description, bool required = false) =>
        new("--image", "-i") { Description = description, Required = required };

    /// <summary><c>--layer</c>, <c>-l</c>: a layer of the network, as <c>LayerSelector</c> reads it.</summary>
    public static Option<string?> Layer(string description) => new("--layer", "-l") { Description = description };

    /// <summary><c>--methods</c>: explanation methods, separated by commas.</summary>
    public static Option<string?> Methods(string description, string? defaultValue = null) =>
        WithDefault(new Option<string?>("--methods") { Description = description }, defaultValue);

    /// <summary><c>--samples</c>: how many images to generate.</summary>
    public static Option<int> Samples(string description, int defaultValue) =>
        new("--samples") { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary><c>--views</c>: views of each taught example (the image and lightly changed copies); 6 unless
    /// told.</summary>
    public static Option<int> Views(string description) =>
        new("--views") { Description = description, DefaultValueFactory = _ => 6 };

    static string[] Alias(bool given, string alias) => given ? [alias] : [];

    /// <summary>A default only where one is given: help shows "[default: ...]" only for an option that has
    /// one.</summary>
    static Option<string?> WithDefault(Option<string?> option, string? defaultValue)
    {
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return option;
    }
}
