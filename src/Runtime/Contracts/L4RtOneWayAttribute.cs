namespace L4Rt.Contracts;

/// <summary>
/// Makes a <c>void</c> operation of an L4Rt contract a one-way send: the client's send returns once the server took the
/// message, and no reply comes (a failure in the server is not reported to the client).
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class L4RtOneWayAttribute : Attribute
{
}
