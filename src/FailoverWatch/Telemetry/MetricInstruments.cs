using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;

namespace FailoverWatch.Telemetry;

/// <summary>
/// One metric defined once and exported twice: to prometheus-net for <c>/metrics</c> (exact names and
/// types, no expiry) and to a System.Diagnostics.Metrics instrument that OpenTelemetry reads.
/// </summary>
internal abstract class MetricInstrument(string[] labelNames)
{
    protected string[] LabelNames { get; } = labelNames;

    protected KeyValuePair<string, object?>[] Tags(string[] labelValues)
    {
        var tags = new KeyValuePair<string, object?>[LabelNames.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            tags[i] = new(LabelNames[i], labelValues[i]);
        }

        return tags;
    }
}

internal sealed class GaugeInstrument : MetricInstrument
{
    private readonly Gauge _gauge;
    private readonly ConcurrentDictionary<string, (string[] Labels, double Value)> _values = new(StringComparer.Ordinal);

    public GaugeInstrument(IMetricFactory factory, Meter meter, string name, string help, params string[] labelNames)
        : base(labelNames)
    {
        _gauge = factory.CreateGauge(name, help, labelNames);
        meter.CreateObservableGauge(name, Observe, description: help);
    }

    public void Set(double value, params string[] labelValues)
    {
        _gauge.WithLabels(labelValues).Set(value);
        _values[string.Join('\u001f', labelValues)] = (labelValues, value);
    }

    /// <summary>A point in time, as Prometheus wants it: Unix seconds.</summary>
    public void SetTime(DateTimeOffset at, params string[] labelValues) => Set(at.ToUnixTimeMilliseconds() / 1000.0, labelValues);

    public double Get(params string[] labelValues) => _gauge.WithLabels(labelValues).Value;

    /// <summary>Drops the series, for a value that no longer applies (a standby's lag once it is primary).</summary>
    public void Remove(params string[] labelValues)
    {
        _gauge.RemoveLabelled(labelValues);
        _values.TryRemove(string.Join('\u001f', labelValues), out _);
    }

    private IEnumerable<Measurement<double>> Observe() =>
        _values.Values.Select(v => new Measurement<double>(v.Value, Tags(v.Labels)));
}

internal sealed class CounterInstrument : MetricInstrument
{
    private readonly Prometheus.Counter _counter;
    private readonly Counter<long> _meterCounter;

    public CounterInstrument(IMetricFactory factory, Meter meter, string name, string help, params string[] labelNames)
        : base(labelNames)
    {
        _counter = factory.CreateCounter(name, help, labelNames);
        _meterCounter = meter.CreateCounter<long>(name, description: help);
    }

    /// <summary>Makes the series visible at 0 before the first event, so rate() and alerts see it.</summary>
    public void Touch(params string[] labelValues) => _counter.WithLabels(labelValues).Inc(0);

    public void Inc(params string[] labelValues)
    {
        _counter.WithLabels(labelValues).Inc();
        _meterCounter.Add(1, Tags(labelValues));
    }

    public void Add(long amount, params string[] labelValues)
    {
        _counter.WithLabels(labelValues).Inc(amount);
        _meterCounter.Add(amount, Tags(labelValues));
    }

    public double Get(params string[] labelValues) => _counter.WithLabels(labelValues).Value;
}

internal sealed class HistogramInstrument : MetricInstrument
{
    private readonly Prometheus.Histogram _histogram;
    private readonly Histogram<double> _meterHistogram;

    public HistogramInstrument(IMetricFactory factory, Meter meter, string name, string help, double[] buckets, params string[] labelNames)
        : base(labelNames)
    {
        _histogram = factory.CreateHistogram(name, help, labelNames, new HistogramConfiguration { Buckets = buckets });
        _meterHistogram = meter.CreateHistogram<double>(name, unit: "s", description: help);
    }

    public void Observe(double value, params string[] labelValues)
    {
        _histogram.WithLabels(labelValues).Observe(value);
        _meterHistogram.Record(value, Tags(labelValues));
    }
}
