using L4Rt.Ipc;

namespace L4Rt.Hosting;

/// <summary>
/// An <see cref="IL4RtHandler"/> that needs its server thread prepared before the first wait (for instance receive
/// buffers for capability arguments and a receive window for flexpages, as generated contract handlers do):
/// <see cref="L4RtServer{THandler}"/> calls <see cref="PrepareReceive"/> once, before the thread's first wait.
/// </summary>
public interface IL4RtReceiveSetup
{
    /// <summary>Prepares <paramref name="thread"/> (its buffer registers) of <paramref name="task"/> for the messages the handler serves.</summary>
    void PrepareReceive(L4Thread thread, L4Task task);
}
