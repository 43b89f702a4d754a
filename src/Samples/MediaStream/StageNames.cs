using System.Globalization;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// The names one run registers in the broker's name service, all under <c>mediastream/RUN/</c>. Each channel is
/// created (and registered) by its reading stage and opened by its writing stage; the frame pool by the source.
/// </summary>
internal sealed class StageNames(string run)
{
    /// <summary>Source → filter: frames (FIFO) or frame indices (pool).</summary>
    public string Raw => $"mediastream/{run}/raw";

    /// <summary>Filter → sink: frames (FIFO) or frame indices (pool).</summary>
    public string Filtered => $"mediastream/{run}/filtered";

    /// <summary>Sink → source: free pool slots (pool transport).</summary>
    public string FreeSlots => $"mediastream/{run}/free";

    /// <summary>The frame pool dataspace (pool transport).</summary>
    public string Pool => $"mediastream/{run}/pool";

    /// <summary>A stage's control gate.</summary>
    public string Control(Stage stage) => $"mediastream/{run}/control/{stage.ToString().ToLowerInvariant()}";

    /// <summary>A run name for this process: its pid and the transport.</summary>
    public static string NewRun(Transport transport) => string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-{transport.ToString().ToLowerInvariant()}");
}
