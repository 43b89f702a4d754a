namespace L4Rt.Tests.Properties;

/// <summary>What one step of a generated sequence asks the kernel for.</summary>
internal enum OpKind
{
    CreateThread,
    CreateGate,
    CreateIrq,
    CreateDataspace,
    CreateChannel,
    CreateFactory,
    NameRegister,
    NameQuery,
    NameUnregister,
    Map,
    Send,
    Delete,
    CapInfo,
    FactoryUsage,
    Kill,
    Join,
}
