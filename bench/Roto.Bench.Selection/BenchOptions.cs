using System.Globalization;
using Roto.Vision.Segmentation;

namespace Roto.Bench.Selection;

/// <summary>Overrides options from Name=Value arguments, for trying settings without rebuilding.</summary>
public static class BenchOptions
{
    public static T Apply<T>(T options, IEnumerable<string> settings) where T : class
    {
        foreach (var setting in settings)
        {
            var (name, value) = (setting[..setting.IndexOf('=')], setting[(setting.IndexOf('=') + 1)..]);
            var property = typeof(T).GetProperty(name) ?? throw new ArgumentException($"no option {name}");
            object parsed = property.PropertyType == typeof(int[])
                ? value.Split(',').Select(int.Parse).ToArray()
                : Convert.ChangeType(value, property.PropertyType, CultureInfo.InvariantCulture);
            // Records' init-only setters are settable by reflection; the options object is the bench's own.
            property.SetValue(options, parsed);
        }
        return options;
    }
}
