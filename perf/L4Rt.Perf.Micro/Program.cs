using BenchmarkDotNet.Running;

// In-process micro-benchmarks of the hot paths, with allocations (MemoryDiagnoser):
//   dotnet run -c Release --project perf/L4Rt.Perf.Micro -- --filter '*'
// Multi-process figures come from perf/L4Rt.Perf; these isolate the per-operation cost.
BenchmarkSwitcher.FromAssembly(typeof(L4Rt.Perf.Micro.MsgTagBenchmarks).Assembly).Run(args);
