using System.Linq;

namespace L4Rt.Contracts.Generator;

internal static partial class ContractEmitter
{
    private static void EmitClient(CodeWriter w, ContractModel model)
    {
        string name = model.BaseName + "Client";
        string iface = Interface(model);
        w.Line("/// <summary>");
        w.Line("/// Client of contract <see cref=\"" + model.InterfaceName + "\"/> (L4Rt contract " + Int(model.Id) + " version " + Int(model.Version) + "): each operation");
        w.Line("/// marshals its arguments into the calling thread's message registers, calls (or, one way, sends) and reads the reply from");
        w.Line("/// them. <c>Try…</c> methods return the status; the interface's methods and <c>…Async</c> throw <see cref=\"global::L4Rt.L4RtException\"/>.");
        w.Line("/// Used by one OS thread at a time, like its <see cref=\"global::L4Rt.Ipc.L4Thread\"/>.");
        w.Line("/// </summary>");
        w.Line(Generated);
        w.Open(model.Accessibility + " sealed partial class " + name + " : " + iface);
        w.Line(Doc("The contract's id."));
        w.Line("public const int ContractId = " + Int(model.Id) + ";");
        w.Line();
        w.Line(Doc("The contract's version."));
        w.Line("public const int Version = " + Int(model.Version) + ";");
        foreach (OperationModel op in model.Operations)
        {
            w.Line();
            w.Line(Doc("The message tag protocol of " + op.Name + " (contract, version, opcode " + Int(op.Opcode) + ")."));
            w.Line("public const int " + ProtocolConst(op) + " = " + ProtocolValue(model, op) + ";");
        }

        w.Line();
        w.Line("private readonly global::L4Rt.Contracts.ContractEndpoint _endpoint;");
        w.Line("private " + Tag + " _reply;");
        w.Line();
        w.Line(Doc("A client sending through " + "endpoint."));
        w.Open("public " + name + "(global::L4Rt.Contracts.ContractEndpoint endpoint)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(endpoint);");
        w.Line("_endpoint = endpoint;");
        w.Close();
        w.Line();
        foreach ((string through, string parameter) in new[] { ("gate", "global::L4Rt.Objects.Gate gate"), ("a direct link", "global::L4Rt.Ipc.SendLink link") })
        {
            w.Line(Doc("A client calling through " + through + " from thread, each phase of each operation within timeout."));
            w.Line("public " + name + "(" + Thread + " thread, " + parameter + ", global::L4Rt.Ipc.L4Timeout timeout)");
            w.Line("    : this(new global::L4Rt.Contracts.ContractEndpoint(thread, " + parameter.Substring(parameter.LastIndexOf(' ') + 1) + ", timeout))");
            w.Line("{");
            w.Line("}");
            w.Line();
        }

        w.Line(Doc("Where this client sends (its thread and timeout)."));
        w.Line("public global::L4Rt.Contracts.ContractEndpoint Endpoint => _endpoint;");
        foreach (OperationModel op in model.Operations)
        {
            EmitClientOperation(w, model, op);
        }

        if (model.IsChannel)
        {
            EmitStates(w, model, name);
        }

        w.Close();
    }

    private static void EmitClientOperation(CodeWriter w, ContractModel model, OperationModel op)
    {
        string p = ProtocolConst(op);
        string where = model.InterfaceName + "." + op.Name;
        bool hasResult = op.ReturnKind != ValueKind.Void;
        string outResult = hasResult ? "out " + op.ReturnType + " result" : "";
        int caps = op.Items;

        // Request marshalling, shared by the synchronous and the asynchronous call.
        w.Line();
        w.Open("private static int Write" + op.Name + "(" + With(Span + " __mr", Declared(op)) + ")");
        w.Line("int __at = 0;");
        foreach (ParameterModel param in op.Parameters)
        {
            string v = "@" + param.Name;
            string limit = Int(63 - (2 * caps));
            switch (param.Kind)
            {
                case ValueKind.Unmanaged:
                    w.Line(Words + ".Put<" + param.Type + ">(__mr, __at, " + v + ");");
                    w.Line("__at += " + Words + ".WordsOf<" + param.Type + ">();");
                    break;
                case ValueKind.Bool:
                    w.Line(Words + ".PutBool(__mr, __at++, " + v + ");");
                    break;
                case ValueKind.String:
                    w.Line("__at = " + Words + ".PutString(__mr, __at, " + limit + ", " + v + ");");
                    w.Line("if (__at < 0) return -1;");
                    break;
                case ValueKind.Bytes:
                    w.Line("__at = " + Words + ".PutBytes(__mr, __at, " + limit + ", " + v + ");");
                    w.Line("if (__at < 0) return -1;");
                    break;
            }
        }

        int item = 0;
        foreach (ParameterModel param in op.Parameters.Where(x => x.Kind is ValueKind.Capability or ValueKind.Flexpage))
        {
            w.Line(Words + (param.Kind == ValueKind.Capability ? ".PutCapability" : ".PutFlexpage") + "(__mr, __at, " + Int(item++) + ", @" + param.Name + ");");
        }

        w.Line("return __at;");
        w.Close();

        // Reply unmarshalling.
        w.Line();
        string thread = ReturnsItem(op) ? ", " + Thread + " __thread" : "";
        w.Open("private static " + Status + " Read" + op.Name + "(" + With("scoped in " + Result + " __reply, " + Span + " __mr" + thread, outResult) + ")");
        if (op.OneWay)
        {
            w.Line("return __reply.Status;");
            w.Close();
        }
        else
        {
            w.Line(Status + " __status = " + Protocol + ".CheckReply(in __reply, " + p + ", " + MinReplyWords(op) + ", " + (ReturnsItem(op) ? "1" : "0") + ", __mr);");
            if (hasResult)
            {
                w.Open("if (__status != " + Status + ".Ok)");
                w.Line("result = default!;");
                w.Line("return __status;");
                w.Close();
                w.Line();
                switch (op.ReturnKind)
                {
                    case ValueKind.Unmanaged:
                        w.Line("result = " + Words + ".Get<" + op.ReturnType + ">(__mr, 0);");
                        w.Line("return __status;");
                        break;
                    case ValueKind.Bool:
                        w.Line("result = " + Words + ".GetBool(__mr, 0);");
                        w.Line("return __status;");
                        break;
                    case ValueKind.String:
                        w.Line("int __at = 0;");
                        w.Line("bool __ok = " + Words + ".TryGetString(__mr, ref __at, __reply.Tag.Words, out string? __text);");
                        w.Line("result = __text!;");
                        w.Line("return __ok && __at == __reply.Tag.Words ? __status : " + Status + ".ProtocolViolation;");
                        break;
                    case ValueKind.Bytes:
                        w.Line("int __at = 0;");
                        w.Line("bool __ok = " + Words + ".TryGetBytes(__mr, ref __at, __reply.Tag.Words, out result);");
                        w.Line("return __ok && __at == __reply.Tag.Words ? __status : " + Status + ".ProtocolViolation;");
                        break;
                    case ValueKind.Capability:
                        w.Line("bool __ok = " + Words + ".TryGetCapability<" + Bare(op.ReturnType) + ">(__thread, 0, out result);");
                        w.Line("return __ok && __reply.Tag.Words == 0 ? __status : " + Status + ".ProtocolViolation;");
                        break;
                    case ValueKind.Flexpage:
                        w.Line("bool __ok = " + Words + ".TryGetFlexpage(__thread, 0, out result);");
                        w.Line("return __ok && __reply.Tag.Words == 0 ? __status : " + Status + ".ProtocolViolation;");
                        break;
                }
            }
            else
            {
                w.Line("return __status;");
            }

            w.Close();
        }

        // Try…: the status, no exception.
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// " + (op.OneWay ? "Sends" : "Calls") + " <see cref=\"" + model.InterfaceName + "." + op.Name + "\"/> (opcode " + Int(op.Opcode) + ") and returns the status: <see cref=\"global::L4Rt.L4Status.Ok\"/>,");
        w.Line("/// an IPC failure, the server's refusal, or <see cref=\"global::L4Rt.L4Status.InvalidArgument\"/> when the arguments do not fit the registers.");
        w.Line("/// </summary>");
        w.Open("public " + Status + " Try" + op.Name + "(" + string.Join(", ", new[] { Declared(op), outResult }.Where(s => s.Length > 0)) + ")");
        w.Line(Span + " __mr = _endpoint.Mr;");
        w.Line("int __words = Write" + op.Name + "(" + With("__mr", Passed(op)) + ");");
        w.Open("if (__words < 0)");
        if (hasResult)
        {
            w.Line("result = default!;");
        }

        w.Line("_reply = default;");
        w.Line("return " + Status + ".InvalidArgument;");
        w.Close();
        w.Line();
        if (ReturnsItem(op))
        {
            // The reply's item needs room in this thread's buffer registers: set for this call, cleared after it.
            w.Line("global::L4Rt.Ipc.Utcb __utcb = _endpoint.Thread.Utcb;");
            if (op.ReturnKind == ValueKind.Flexpage)
            {
                w.Open("if (_endpoint.ReceiveWindow is null)");
                w.Line("result = default!;");
                w.Line("_reply = default;");
                w.Line("return " + Status + ".NoReceiveBuffer;");
                w.Close();
                w.Line();
            }

            w.Line("global::L4Rt.Objects.ReceiveBuffers.SetReceiveBuffers(__utcb, " + (op.ReturnKind == ValueKind.Capability ? "1" : "0") + ", _endpoint.ReceiveWindow);");
        }

        w.Line(Result + " __reply = _endpoint." + (op.OneWay ? "Send" : "Call") + "(new " + Tag + "(" + p + ", __words, " + Int(caps) + "));");
        w.Line("_reply = __reply.Tag;");
        if (ReturnsItem(op))
        {
            w.Line("global::L4Rt.Objects.ReceiveBuffers.ClearReceiveBuffers(__utcb);");
        }

        w.Line("return Read" + op.Name + "(" + With("in __reply, __mr" + (ReturnsItem(op) ? ", _endpoint.Thread" : ""), hasResult ? "out result" : "") + ");");
        w.Close();

        // The interface's method: throws on failure.
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Open("public " + op.ReturnType + " " + op.Name + "(" + Declared(op) + ")");
        w.Line(Status + " __status = Try" + op.Name + "(" + string.Join(", ", new[] { Passed(op), hasResult ? "out " + op.ReturnType + " result" : "" }.Where(s => s.Length > 0)) + ");");
        ThrowOrReturn(w, where, p, hasResult);

        if (!op.OneWay && op.ReturnKind != ValueKind.Bytes && caps == 0 && !ReturnsItem(op))
        {
            EmitClientAsync(w, model, op);
        }
    }

    private static void EmitClientAsync(CodeWriter w, ContractModel model, OperationModel op)
    {
        string p = ProtocolConst(op);
        string where = model.InterfaceName + "." + op.Name;
        bool hasResult = op.ReturnKind != ValueKind.Void;
        string task = hasResult ? "global::System.Threading.Tasks.ValueTask<" + op.ReturnType + ">" : "global::System.Threading.Tasks.ValueTask";
        string builder = hasResult
            ? "global::System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>"
            : "global::System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder";
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Calls <see cref=\"" + model.InterfaceName + "." + op.Name + "\"/> asynchronously: no thread is held while the server works");
        w.Line("/// (see <see cref=\"global::L4Rt.Ipc.L4Thread.CallAsync(global::L4Rt.Ipc.SendLink, global::L4Rt.Ipc.MsgTag, global::L4Rt.Ipc.L4Timeout, global::System.Threading.CancellationToken)\"/>).");
        w.Line("/// Throws <see cref=\"global::L4Rt.L4RtException\"/> when the call fails or the server refuses it.");
        w.Line("/// </summary>");
        w.Open("public " + task + " " + op.Name + "Async(" + With(Declared(op), "global::System.Threading.CancellationToken cancellationToken = default").TrimStart(',', ' ') + ")");
        w.Line(Span + " __mr = _endpoint.Mr;");
        w.Line("int __words = Write" + op.Name + "(" + With("__mr", Passed(op)) + ");");
        w.Open("if (__words < 0)");
        w.Line("return " + "global::System.Threading.Tasks.ValueTask.FromException" + (hasResult ? "<" + op.ReturnType + ">" : "")
            + "(" + Protocol + ".Failure(" + Status + ".InvalidArgument, " + Quote(where) + ", " + p + ", default, __mr));");
        w.Close();
        w.Line();
        w.Line("global::System.Threading.Tasks.ValueTask<" + Result + "> __pending = _endpoint.CallAsync(new " + Tag + "(" + p + ", __words, 0), cancellationToken);");
        if (hasResult)
        {
            w.Line("return __pending.IsCompletedSuccessfully ? new " + task + "(Finish" + op.Name + "(__pending.Result)) : Await" + op.Name + "(__pending);");
        }
        else
        {
            w.Open("if (__pending.IsCompletedSuccessfully)");
            w.Line("Finish" + op.Name + "(__pending.Result);");
            w.Line("return default;");
            w.Close();
            w.Line();
            w.Line("return Await" + op.Name + "(__pending);");
        }

        w.Close();
        w.Line();
        w.Line("[global::System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(" + builder + "))]");
        w.Open("private async " + task + " Await" + op.Name + "(global::System.Threading.Tasks.ValueTask<" + Result + "> __pending)");
        w.Line((hasResult ? "return " : "") + "Finish" + op.Name + "(await __pending.ConfigureAwait(false));");
        w.Close();
        w.Line();
        w.Open("private " + (hasResult ? op.ReturnType : "void") + " Finish" + op.Name + "(" + Result + " __reply)");
        w.Line("_reply = __reply.Tag;");
        w.Line(Status + " __status = Read" + op.Name + "(" + With("in __reply, _endpoint.Mr", hasResult ? "out " + op.ReturnType + " result" : "") + ");");
        ThrowOrReturn(w, where, p, hasResult);
    }

    /// <summary>Channel contracts: one wrapper per state with only that state's operations; a transition returns the next state's wrapper.</summary>
    private static void EmitStates(CodeWriter w, ContractModel model, string client)
    {
        w.Line();
        w.Line(Doc("The channel in its initial state (" + model.States[model.Initial] + "): a new client starts there."));
        w.Line("public " + model.States[model.Initial] + "State Begin() => new(this);");
        for (int s = 0; s < model.States.Count; s++)
        {
            string state = model.States[s];
            w.Line();
            w.Line(Doc("The channel in state " + state + ": only the operations " + state + " allows; an operation that changes the state returns the next state's wrapper."));
            w.Open("public readonly struct " + state + "State");
            w.Line("private readonly " + client + " _client;");
            w.Line();
            w.Line("internal " + state + "State(" + client + " client) => _client = client;");
            w.Line();
            w.Line(Doc("The client (every operation, unchecked by the type system)."));
            w.Line("public " + client + " Client => _client;");
            foreach (OperationModel op in model.Operations.Where(o => o.AllowedIn.Count == 0 || o.AllowedIn.Contains(s)))
            {
                bool hasResult = op.ReturnKind != ValueKind.Void;
                w.Line();
                w.Line("/// <summary>See <see cref=\"" + model.InterfaceName + "." + op.Name + "\"/>" + (op.Next >= 0 && op.Next != s ? "; the channel is in state " + model.States[op.Next] + " after it" : "") + ".</summary>");
                if (op.Next < 0 || op.Next == s)
                {
                    w.Line("public " + op.ReturnType + " " + op.Name + "(" + Declared(op) + ") => _client." + op.Name + "(" + Passed(op) + ");");
                    continue;
                }

                string next = model.States[op.Next] + "State";
                w.Open("public " + next + " " + op.Name + "(" + string.Join(", ", new[] { Declared(op), hasResult ? "out " + op.ReturnType + " result" : "" }.Where(x => x.Length > 0)) + ")");
                w.Line((hasResult ? "result = " : "") + "_client." + op.Name + "(" + Passed(op) + ");");
                w.Line("return new " + next + "(_client);");
                w.Close();
            }

            w.Close();
        }
    }

    /// <summary>The end of a throwing method: the failure as an exception, else the result.</summary>
    private static void ThrowOrReturn(CodeWriter w, string where, string protocol, bool hasResult)
    {
        w.Open("if (__status != " + Status + ".Ok)");
        w.Line(Protocol + ".ThrowFailure(__status, " + Quote(where) + ", " + protocol + ", _reply, _endpoint.Mr);");
        w.Close();
        if (hasResult)
        {
            w.Line();
            w.Line("return result;");
        }

        w.Close();
    }
}
