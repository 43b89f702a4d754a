namespace L4Rt.Contracts.Generator;

internal static partial class ContractEmitter
{
    private static void EmitHandler(CodeWriter w, ContractModel model)
    {
        string name = model.BaseName + "Handler";
        string dispatcher = model.BaseName + "Dispatcher";
        string iface = Interface(model);
        w.Line("/// <summary>");
        w.Line("/// Serves contract <see cref=\"" + model.InterfaceName + "\"/> with a <typeparamref name=\"TImplementation\"/> in the hosting integration's server loop");
        w.Line("/// (<see cref=\"global::L4Rt.Hosting.L4RtServiceCollectionExtensions.AddL4RtServer{THandler}\"/>, or <c>Add" + model.BaseName + "Server</c>)." + (model.IsChannel ? " Keeps each client's state." : ""));
        w.Line("/// </summary>");
        w.Line("/// <typeparam name=\"TImplementation\">The implementation of the contract.</typeparam>");
        w.Line(Generated);
        w.Line(model.Accessibility + " sealed partial class " + name + "<TImplementation> : global::L4Rt.Hosting.IL4RtHandler, global::L4Rt.Hosting.IL4RtReceiveSetup");
        w.Open("    where TImplementation : " + iface);
        w.Line("private readonly TImplementation _implementation;");
        if (model.IsChannel)
        {
            w.Line("private readonly global::L4Rt.Contracts.ContractSessions _sessions = " + dispatcher + ".CreateSessions();");
        }

        w.Line();
        w.Line(Doc("A handler serving with implementation."));
        w.Line("public " + name + "(TImplementation implementation) => _implementation = implementation;");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line("public " + Tag + " Handle(" + Thread + " thread, in " + Result + " request) => " + dispatcher + ".Dispatch(_implementation, thread, in request" + (model.IsChannel ? ", _sessions" : "") + ");");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Open("public void PrepareReceive(" + Thread + " thread, global::L4Rt.L4Task task)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(task);");
        w.Line(dispatcher + ".PrepareReceive(thread, " + dispatcher + ".ReceivesFlexpages ? task.CreateReceiveWindow(" + dispatcher + ".ReceiveWindowBytes) : null);");
        w.Close();
        w.Close();
        w.Line();
        w.Line(Doc("Registration of a " + model.BaseName + " server in the Generic Host."));
        w.Line(Generated);
        w.Open(model.Accessibility + " static partial class " + model.BaseName + "ServiceCollectionExtensions");
        w.Line("/// <summary>");
        w.Line("/// Serves contract <see cref=\"" + model.InterfaceName + "\"/> under <paramref name=\"name\"/> with a <typeparamref name=\"TImplementation\"/> (from DI, added");
        w.Line("/// as a singleton when absent) on its own server thread while the host runs.");
        w.Line("/// </summary>");
        w.Line("/// <typeparam name=\"TImplementation\">The implementation of the contract.</typeparam>");
        w.Line("public static global::Microsoft.Extensions.DependencyInjection.IServiceCollection Add" + model.BaseName + "Server<TImplementation>(this global::Microsoft.Extensions.DependencyInjection.IServiceCollection services, string name, global::System.Action<global::L4Rt.Hosting.L4RtServerOptions>? configure = null)");
        w.Open("    where TImplementation : class, " + iface);
        w.Line("global::System.ArgumentNullException.ThrowIfNull(services);");
        w.Line("global::Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton<TImplementation>(services);");
        w.Line("return global::L4Rt.Hosting.L4RtServiceCollectionExtensions.AddL4RtServer<" + name + "<TImplementation>>(services, name, configure);");
        w.Close();
        w.Close();
    }
}
