using System.Text;

namespace LiveCam.Core;

/// <summary>Names that come from files (ONNX operators and layers, labels, taught classes) reach a terminal and the
/// picture: their control characters (escape sequences, newlines, bidirectional overrides) are shown as \xNN or \uNNNN
/// instead of acting.</summary>
public static class Printable
{
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(Acts)) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (!Acts(c)) sb.Append(c);
            else if (c <= 0xFF) sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            else sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
        }
        return sb.ToString();
    }

    static bool Acts(char c) => char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';
}
