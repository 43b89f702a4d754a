using L4Rt.Ipc;

namespace L4Rt.Hosting;

/// <summary>
/// Serves the messages of one gate (see <see cref="L4RtServiceCollectionExtensions.AddL4RtServer{THandler}"/>). It runs on the
/// server's own thread: the request's words are in <c>thread.Utcb.Mr</c>; for a call, write the reply's words there
/// and return its tag. A handler that throws is logged and its caller gets a reply with protocol
/// <see cref="SystemProtocol.Exception"/> and no words; the server keeps serving.
/// </summary>
public interface IL4RtHandler
{
    /// <summary>Handles one message (<paramref name="request"/> has its tag and label) and returns the reply's tag (ignored for a send).</summary>
    MsgTag Handle(L4Thread thread, in IpcResult request);
}
