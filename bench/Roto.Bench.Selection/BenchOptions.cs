using System.Globalization;
using Roto.Vision.Segmentation;

namespace Roto.Bench.Selection;

/// <summary>Overrides options from Name=Value arguments, for trying settings without rebuilding.</summary>
public static class BenchOptions
{
    public static FeatureGraphOptions Apply(FeatureGraphOptions options, IEnumerable<string> settings)
    {
        foreach (var setting in settings)
        {
            var (name, value) = (setting[..setting.IndexOf('=')], setting[(setting.IndexOf('=') + 1)..]);
            var property = typeof(FeatureGraphOptions).GetProperty(name) ?? throw new ArgumentException($"no option {name}");
            object parsed = property.PropertyType == typeof(int[])
                ? value.Split(',').Select(int.Parse).ToArray()
                : Convert.ChangeType(value, property.PropertyType, CultureInfo.InvariantCulture);
            options = options with { };
            property.SetValue(options, parsed);
        }
        return options;
    }
}
