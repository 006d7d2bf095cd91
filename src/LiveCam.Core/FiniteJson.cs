using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LiveCam.Core;

/// <summary>JSON with finite numbers only: a NaN or infinity anywhere in what is written ends in a
/// <see cref="NotFiniteException"/> naming the file's content, instead of a file no JSON reader accepts.</summary>
public static class FiniteJson
{
    static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> s_finite = [];

    /// <param name="what">What the file holds, for the message ("the explanation for e.json").</param>
    public static string Serialize<T>(T value, string what, JsonSerializerOptions? options = null)
    {
        var finite = s_finite.GetValue(options ?? JsonSerializerOptions.Default, o =>
        {
            var copy = new JsonSerializerOptions(o);
            copy.Converters.Add(new FiniteDouble());
            copy.Converters.Add(new FiniteSingle());
            return copy;
        });
        try
        {
            return JsonSerializer.Serialize(value, finite);
        }
        catch (NotFiniteException e)
        {
            throw new NotFiniteException($"{what} holds {e.Message}: not written", e);
        }
    }

    sealed class FiniteDouble : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (!double.IsFinite(value)) throw new NotFiniteException(NotFiniteException.Kind(value));
            writer.WriteNumberValue(value);
        }
    }

    sealed class FiniteSingle : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetSingle();

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
        {
            if (!float.IsFinite(value)) throw new NotFiniteException(NotFiniteException.Kind(value));
            writer.WriteNumberValue(value);
        }
    }
}
