namespace LiveCam.Core;

/// <summary>A computation gave NaN or infinity where a number was to be kept, shown or written: the message says what
/// and where, and nothing holding it was saved.</summary>
public sealed class NotFiniteException : Exception
{
    public NotFiniteException(string message) : base(message) { }
    public NotFiniteException(string message, Exception inner) : base(message, inner) { }
    public NotFiniteException() { }

    /// <summary>"NaN" or "infinity": which of the two a value is.</summary>
    public static string Kind(double value) => double.IsNaN(value) ? "NaN" : "infinity";
}
