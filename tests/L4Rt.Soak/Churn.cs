using System.Diagnostics;
using System.Globalization;
using L4Rt.Shared;

namespace L4Rt.Soak;

/// <summary>
/// The churning processes of a soak: <c>workers</c> of them alive at once, each replaced as it ends; a third are
/// SIGKILLed at a random moment of their life. A worker that exits with a failure (a wrong answer, an exception) is
/// recorded in <see cref="Failures"/>.
/// </summary>
internal sealed class Churn(string socket, int workers) : IDisposable
{
    private readonly Random _random = new(20261203);
    private readonly List<(ManagedProcess Process, long KillAt)> _alive = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    internal int Started { get; private set; }

    internal int Killed { get; private set; }

    internal int Clean { get; private set; }

    internal List<string> Failures { get; } = [];

    /// <summary>Churns until <paramref name="now"/> reaches <paramref name="until"/>, calling <paramref name="sample"/> every <paramref name="every"/>.</summary>
    internal async Task RunAsync(TimeSpan until, TimeSpan every, Func<Task<SoakSample>> sample, Func<TimeSpan> now)
    {
        TimeSpan nextSample = now();
        while (now() < until)
        {
            Reap();
            while (_alive.Count < workers)
            {
                ManagedProcess worker = SoakRun.Start("worker", socket, (++Started).ToString(CultureInfo.InvariantCulture));
                long killAt = _random.Next(3) == 0 ? _clock.ElapsedMilliseconds + _random.Next(200, 2500) : -1;
                _alive.Add((worker, killAt));
            }

            if (now() >= nextSample)
            {
                await sample();
                nextSample = now() + every;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Kills every worker still running and waits for them: the soak settles after this.</summary>
    internal void StopAll()
    {
        foreach ((ManagedProcess process, long _) in _alive)
        {
            process.Dispose();
        }

        _alive.Clear();
    }

    public void Dispose() => StopAll();

    /// <summary>Counts and removes the workers that ended; kills those whose moment came.</summary>
    private void Reap()
    {
        for (int i = _alive.Count - 1; i >= 0; i--)
        {
            (ManagedProcess process, long killAt) = _alive[i];
            if (process.HasExited)
            {
                if (process.ExitCode == 0)
                {
                    Clean++;
                }
                else if (killAt != -2)
                {
                    Failures.Add($"worker {process} exited with {process.ExitCode}: {process.Stderr.Trim()}");
                }

                process.Dispose();
                _alive.RemoveAt(i);
            }
            else if (killAt >= 0 && _clock.ElapsedMilliseconds >= killAt)
            {
                process.Kill();
                Killed++;
                _alive[i] = (process, -2);
            }
        }
    }
}
