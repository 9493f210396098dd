using System.Globalization;

namespace VideoCallbacks.Api.Infrastructure;

/// <summary>"p50 x p99 y max z" for the diagnostics lines (ingest and relay stats); sorts the samples in place.</summary>
public static class Percentiles
{
    public static string Format(List<double> samples, string format = "F1")
    {
        if (samples.Count == 0) return "-";
        samples.Sort();
        string At(double q) => samples[Math.Min(samples.Count - 1, Math.Max(0, (int)Math.Ceiling(q * samples.Count) - 1))].ToString(format, CultureInfo.InvariantCulture);
        return $"p50 {At(0.50)} p99 {At(0.99)} max {samples[^1].ToString(format, CultureInfo.InvariantCulture)}";
    }
}
