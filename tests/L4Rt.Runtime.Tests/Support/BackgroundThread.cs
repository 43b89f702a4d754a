namespace L4Rt.Tests.Support;

/// <summary>A body run on a dedicated thread (not the pool: a fresh OS thread, its own thread statics).</summary>
public static class BackgroundThread
{
    /// <summary>Starts <paramref name="body"/> on a thread; a failure is kept and returned by the join (never crashes the host).</summary>
    public static Func<Exception?> Start(Action body)
    {
        Exception? failure = null;
        Thread thread = new(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        return () =>
        {
            thread.Join();
            return failure;
        };
    }
}
