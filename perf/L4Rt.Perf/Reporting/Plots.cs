using ScottPlot;

namespace L4Rt.Perf.Reporting;

/// <summary>PNG plots of the run: latency distributions (CDF) and throughput bars.</summary>
internal static class Plots
{
    /// <summary>Percentile (x) against latency (y, log scale) for every series: where the tails are, at a glance.</summary>
    internal static void LatencyCdf(string path, string title, IReadOnlyList<(string Name, double[] SamplesNs)> series)
    {
        Plot plot = new();
        foreach ((string name, double[] samples) in series)
        {
            if (samples.Length == 0)
            {
                continue;
            }

            double[] sorted = [.. samples];
            Array.Sort(sorted);
            int points = Math.Min(2000, sorted.Length);
            double[] xs = new double[points];
            double[] ys = new double[points];
            for (int i = 0; i < points; i++)
            {
                double q = i / (double)(points - 1);
                xs[i] = q * 100;
                ys[i] = Math.Log10(Math.Max(1, sorted[(int)(q * (sorted.Length - 1))]));
            }

            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = name;
            line.LineWidth = 2;
        }

        plot.Title(title);
        plot.XLabel("percentile");
        plot.YLabel("round trip (log10 ns)");
        plot.Axes.SetLimitsX(0, 100);
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 1000, 600);
    }

    /// <summary>Throughput (GB/s) against record size (log2 bytes), one line per implementation.</summary>
    internal static void ThroughputBySize(string path, string title, IReadOnlyList<(string Name, (int Size, double Gbps)[] Points)> series)
    {
        Plot plot = new();
        foreach ((string name, (int Size, double Gbps)[] points) in series)
        {
            var line = plot.Add.ScatterLine(points.Select(p => Math.Log2(p.Size)).ToArray(), points.Select(p => p.Gbps).ToArray());
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 8;
        }

        plot.Title(title);
        plot.XLabel("record size (log2 bytes: 6 = 64 B, 10 = 1 KiB, 16 = 64 KiB)");
        plot.YLabel("GB/s");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 1000, 600);
    }

    /// <summary>One bar per figure (e.g. msgs/s), labelled.</summary>
    internal static void Bars(string path, string title, string unit, IReadOnlyList<(string Name, double Value)> bars)
    {
        Plot plot = new();
        double[] values = bars.Select(b => b.Value).ToArray();
        var barPlot = plot.Add.Bars(values);
        Tick[] ticks = bars.Select((b, i) => new Tick(i, b.Name)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 140;
        plot.Title(title);
        plot.YLabel(unit);
        plot.Axes.Margins(bottom: 0);
        plot.SavePng(path, 1000, 600);
        _ = barPlot;
    }
}
