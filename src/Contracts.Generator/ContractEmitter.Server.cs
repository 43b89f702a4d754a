using System.Linq;

namespace L4Rt.Contracts.Generator;

internal static partial class ContractEmitter
{
    private static void EmitDispatcher(CodeWriter w, ContractModel model)
    {
        string name = model.BaseName + "Dispatcher";
        string iface = Interface(model);
        int receive = model.Operations.Count == 0 ? 0 : model.Operations.Max(o => o.Capabilities);
        bool flexpages = model.Operations.Any(o => o.Flexpages > 0);
        string sessions = model.IsChannel ? ", global::L4Rt.Contracts.ContractSessions sessions" : "";
        w.Line("/// <summary>");
        w.Line("/// Server side of contract <see cref=\"" + model.InterfaceName + "\"/> (L4Rt contract " + Int(model.Id) + " version " + Int(model.Version) + "):");
        w.Line("/// <see cref=\"Dispatch\"/> serves one received message with an implementation, for a hand-written server loop");
        w.Line("/// (<c>thread.ReplyAndWait(" + name + ".Dispatch(impl, thread, msg" + (model.IsChannel ? ", sessions" : "") + "), timeout)</c>). A request of another contract or version,");
        w.Line("/// an unknown opcode or a malformed message is refused (see <see cref=\"global::L4Rt.Contracts.ContractProtocol.Refuse\"/>), never handed on.");
        w.Line("/// </summary>");
        w.Line(Generated);
        w.Open(model.Accessibility + " static partial class " + name);
        w.Line(Doc("The contract's id."));
        w.Line("public const int ContractId = " + Int(model.Id) + ";");
        w.Line();
        w.Line(Doc("The contract's version."));
        w.Line("public const int Version = " + Int(model.Version) + ";");
        w.Line();
        w.Line(Doc("Capabilities one request may carry at most: the receive buffers PrepareReceive sets."));
        w.Line("public const int ReceiveCapabilities = " + Int(receive) + ";");
        for (int s = 0; s < model.States.Count; s++)
        {
            w.Line();
            w.Line(Doc("The number of state " + model.States[s] + " in ContractSessions."));
            w.Line("public const int State" + model.States[s] + " = " + Int(s) + ";");
        }

        w.Line();
        w.Line(Doc("Whether requests may carry flexpages (memory items): the serving thread then needs a receive window."));
        w.Line("public const bool ReceivesFlexpages = " + (flexpages ? "true" : "false") + ";");
        w.Line();
        w.Line(Doc("The receive window the generated hosting handler creates when ReceivesFlexpages."));
        w.Line("public const long ReceiveWindowBytes = " + model.ReceiveWindowBytes.ToString(System.Globalization.CultureInfo.InvariantCulture) + ";");
        w.Line();
        w.Line(Doc("Sets the receive buffers the contract's capability arguments need, and window for its flexpages, on the serving thread (call once, before its first wait)."));
        w.Open("public static void PrepareReceive(" + Thread + " thread, global::L4Rt.Objects.ReceiveWindow? window = null)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(thread);");
        w.Open("if (ReceiveCapabilities > 0 || window is not null)");
        w.Line("global::L4Rt.Objects.ReceiveBuffers.SetReceiveBuffers(thread.Utcb, ReceiveCapabilities, window);");
        w.Close();
        w.Close();
        if (model.IsChannel)
        {
            w.Line();
            w.Line(Doc("Per-client states for Dispatch, every client starting in " + model.States[model.Initial] + "."));
            w.Line("public static global::L4Rt.Contracts.ContractSessions CreateSessions() => new(State" + model.States[model.Initial] + ");");
        }

        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Serves the message <paramref name=\"thread\"/> received (<paramref name=\"request\"/>) with <paramref name=\"implementation\"/>");
        w.Line("/// and returns the reply's tag, its words written to the thread's registers" + (model.IsChannel ? "; each client's state is kept in <paramref name=\"sessions\"/>" : "") + ".");
        w.Line("/// An exception of the implementation propagates (the hosting integration answers it with a fault).");
        w.Line("/// </summary>");
        w.Line("public static " + Tag + " Dispatch<TImplementation>(TImplementation implementation, " + Thread + " thread, in " + Result + " request" + sessions + ")");
        w.Open("    where TImplementation : " + iface);
        w.Line("global::System.ArgumentNullException.ThrowIfNull(thread);");
        w.Line(Span + " mr = thread.Utcb.Mr;");
        w.Line(Tag + " tag = request.Tag;");
        w.Line("int protocol = tag.Protocol;");
        w.Open("if (" + Protocol + ".CheckRequest(protocol, ContractId, Version) != " + Status + ".Ok)");
        w.Line("return " + Protocol + ".Refuse(mr, " + Status + ".ProtocolMismatch, (ContractId << 16) | (Version << 8), protocol);");
        w.Close();
        w.Line();
        if (model.IsChannel)
        {
            w.Line("int state = sessions.StateOf(thread, in request);");
        }

        w.Open("switch (protocol & 0xFF)");
        foreach (OperationModel op in model.Operations)
        {
            w.Line("case " + Int(op.Opcode) + ":");
            w.Line("{");
            if (model.IsChannel && op.AllowedIn.Count > 0)
            {
                w.Line("    if (" + string.Join(" && ", op.AllowedIn.Select(s => "state != State" + model.States[s])) + ")");
                w.Line("    {");
                w.Line("        return " + Protocol + ".Refuse(mr, " + Status + ".OutOfState, protocol, protocol);");
                w.Line("    }");
                w.Line();
            }

            if (model.IsChannel && op.Next >= 0)
            {
                w.Line("    " + Tag + " reply = Serve" + op.Name + "(implementation, thread, mr, tag);");
                w.Line("    if (reply.Protocol == protocol)");
                w.Line("    {");
                w.Line("        sessions.Move(thread, in request, State" + model.States[op.Next] + ");");
                w.Line("    }");
                w.Line();
                w.Line("    return reply;");
            }
            else
            {
                w.Line("    return Serve" + op.Name + "(implementation, thread, mr, tag);");
            }

            w.Line("}");
        }

        w.Line("default:");
        w.Line("    return " + Protocol + ".Refuse(mr, " + Status + ".ProtocolViolation, protocol, protocol);");
        w.Close();
        w.Close();
        foreach (OperationModel op in model.Operations)
        {
            EmitServe(w, model, op, iface);
        }

        w.Close();
    }

    private static void EmitServe(CodeWriter w, ContractModel model, OperationModel op, string iface)
    {
        string refuse = "return " + Protocol + ".Refuse(__mr, " + Status + ".ProtocolViolation, __tag.Protocol, __tag.Protocol);";
        w.Line();
        w.Line("private static " + Tag + " Serve" + op.Name + "<TImplementation>(TImplementation __implementation, " + Thread + " __thread, " + Span + " __mr, " + Tag + " __tag)");
        w.Open("    where TImplementation : " + iface);
        w.Line("int __words = __tag.Words;");
        w.Line("int __at = 0;");
        w.Open("if (__tag.Items != " + Int(op.Items) + ")");
        w.Line(refuse);
        w.Close();
        int item = 0;
        foreach (ParameterModel p in op.Parameters)
        {
            string v = "@" + p.Name;
            w.Line();
            switch (p.Kind)
            {
                case ValueKind.Unmanaged:
                    w.Open("if (__words - __at < " + Words + ".WordsOf<" + p.Type + ">())");
                    w.Line(refuse);
                    w.Close();
                    w.Line();
                    w.Line(p.Type + " " + v + " = " + Words + ".Get<" + p.Type + ">(__mr, __at);");
                    w.Line("__at += " + Words + ".WordsOf<" + p.Type + ">();");
                    break;
                case ValueKind.Bool:
                    w.Open("if (__words - __at < 1)");
                    w.Line(refuse);
                    w.Close();
                    w.Line();
                    w.Line("bool " + v + " = " + Words + ".GetBool(__mr, __at++);");
                    break;
                case ValueKind.String:
                    w.Open("if (!" + Words + ".TryGetString(__mr, ref __at, __words, out string? " + v + "))");
                    w.Line(refuse);
                    w.Close();
                    break;
                case ValueKind.Bytes:
                    w.Open("if (!" + Words + ".TryGetBytes(__mr, ref __at, __words, out global::System.ReadOnlySpan<byte> " + v + "))");
                    w.Line(refuse);
                    w.Close();
                    break;
                case ValueKind.Capability:
                    w.Open("if (!" + Words + ".TryGetCapability<" + Bare(p.Type) + ">(__thread, " + Int(item++) + ", out " + Bare(p.Type) + " " + v + "))");
                    w.Line("return " + Protocol + ".Refuse(__mr, " + Status + ".InvalidCapability, __tag.Protocol, __tag.Protocol);");
                    w.Close();
                    break;
                case ValueKind.Flexpage:
                    w.Open("if (!" + Words + ".TryGetFlexpage(__thread, " + Int(item++) + ", out global::L4Rt.Contracts.Flexpage " + v + "))");
                    w.Line(refuse);
                    w.Close();
                    break;
            }
        }

        w.Line();
        w.Open("if (__at != __words)");
        w.Line(refuse);
        w.Close();
        w.Line();
        string args = string.Join(", ", op.Parameters.Select(p => "@" + p.Name + (p.Kind == ValueKind.String && !p.Type.EndsWith("?", System.StringComparison.Ordinal) ? "!" : "")));
        string call = "__implementation." + op.Name + "(" + args + ")";
        switch (op.ReturnKind)
        {
            case ValueKind.Void:
                w.Line(call + ";");
                w.Line("return new " + Tag + "(__tag.Protocol);");
                break;
            case ValueKind.Unmanaged:
                w.Line(Words + ".Put<" + op.ReturnType + ">(__mr, 0, " + call + ");");
                w.Line("return new " + Tag + "(__tag.Protocol, " + Words + ".WordsOf<" + op.ReturnType + ">());");
                break;
            case ValueKind.Bool:
                w.Line(Words + ".PutBool(__mr, 0, " + call + ");");
                w.Line("return new " + Tag + "(__tag.Protocol, 1);");
                break;
            case ValueKind.Capability:
                w.Line(Bare(op.ReturnType) + " __result = " + call + ";");
                w.Open("if (__result is null)");
                w.Line("throw new global::System.InvalidOperationException(" + Quote(model.InterfaceName + "." + op.Name + " returned no capability") + ");");
                w.Close();
                w.Line();
                w.Line(Words + ".PutCapability(__mr, 0, 0, __result);");
                w.Line("return new " + Tag + "(__tag.Protocol, 0, 1);");
                break;
            case ValueKind.Flexpage:
                w.Line(Words + ".PutFlexpage(__mr, 0, 0, " + call + ");");
                w.Line("return new " + Tag + "(__tag.Protocol, 0, 1);");
                break;
            case ValueKind.String or ValueKind.Bytes:
                w.Line("int __end = " + Words + "." + (op.ReturnKind == ValueKind.String ? "PutString" : "PutBytes") + "(__mr, 0, " + Tag + ".MaxWords, " + call + ");");
                w.Open("if (__end < 0)");
                w.Line("throw new global::System.InvalidOperationException(" + Quote(model.InterfaceName + "." + op.Name + ": the result does not fit in the message registers") + ");");
                w.Close();
                w.Line();
                w.Line("return new " + Tag + "(__tag.Protocol, __end);");
                break;
        }

        w.Close();
    }
}
