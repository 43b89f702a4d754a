using L4Rt.Ipc;

namespace L4Rt.Objects;

/// <summary>
/// The buffer registers of a <see cref="Utcb"/> as a receiver declares them: where object items (capabilities) land and
/// the <see cref="ReceiveWindow"/> flexpages are mapped into. Without them a message carrying items is refused for its
/// sender with <see cref="L4Status.NoReceiveBuffer"/>, and nothing of it arrives (its words included).
/// They stay set across waits until changed.
/// </summary>
/// <remarks>
/// Encoding of a buffer register: bits 0–3 the kind (1 a capability slot, 2 a window), bits 32–63 the slot
/// (all ones: any free slot) or the window's number. <see cref="Utcb.Bdr"/> counts the registers in use.
/// </remarks>
public static class ReceiveBuffers
{
    internal const ulong CapabilitySlotKind = 1;
    internal const ulong WindowKind = 2;

    extension(Utcb utcb)
    {
        /// <summary>Accepts up to <paramref name="capabilities"/> capabilities, each in a free slot the broker picks, and flexpages into <paramref name="window"/> (none when null).</summary>
        public void SetReceiveBuffers(int capabilities, ReceiveWindow? window = null)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(capabilities);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(capabilities, Utcb.BufferRegisters - 1);
            Span<ulong> br = utcb.Br;
            for (int i = 0; i < capabilities; i++)
            {
                br[i] = CapabilitySlotKind | (0xFFFF_FFFFUL << 32);
            }

            SetWindow(utcb, capabilities, window);
        }

        /// <summary>Accepts capabilities into exactly these free <paramref name="slots"/> of this task's space (in order), and flexpages into <paramref name="window"/>.</summary>
        public void SetReceiveBuffers(ReadOnlySpan<int> slots, ReceiveWindow? window = null)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(slots.Length, Utcb.BufferRegisters - 1);
            Span<ulong> br = utcb.Br;
            for (int i = 0; i < slots.Length; i++)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(slots[i]);
                br[i] = CapabilitySlotKind | ((ulong)(uint)slots[i] << 32);
            }

            SetWindow(utcb, slots.Length, window);
        }

        /// <summary>Accepts no items: a message carrying any is refused for its sender.</summary>
        public void ClearReceiveBuffers() => utcb.Bdr = 0;
    }

    private static void SetWindow(Utcb utcb, int count, ReceiveWindow? window)
    {
        if (window is not null)
        {
            utcb.Br[count++] = WindowKind | ((ulong)(uint)window.Id << 32);
        }

        utcb.Bdr = (ulong)count;
    }
}
