namespace L4Rt.Fuzz.Targets;

/// <summary>A target's own check failed after the code under test returned normally: a state that must not happen.</summary>
internal sealed class InvariantViolationException(string message, Exception? inner = null) : Exception(message, inner);
