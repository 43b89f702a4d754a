namespace L4Rt.Samples.MediaStream;

/// <summary>What travels beside (or, in the frame pool, instead of) a frame: its number, the source's timestamp and its pool slot.</summary>
/// <param name="Index">The frame number, from 0.</param>
/// <param name="Stamp">When the source started rendering it (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>: CLOCK_MONOTONIC, the same clock in every process).</param>
/// <param name="Slot">The frame pool slot holding it; -1 when the frame travels in the record itself.</param>
internal readonly record struct FrameInfo(long Index, long Stamp, int Slot);
