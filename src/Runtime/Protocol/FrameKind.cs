namespace L4Rt.Protocol;

internal enum FrameKind : byte
{
    Request = 1,
    Response = 2,
    Notification = 3,
}
