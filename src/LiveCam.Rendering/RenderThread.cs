using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace LiveCam.Rendering;

/// <summary>
/// The one thread that makes GL calls for a context: other threads post work to it (<see cref="Post"/>) or
/// wait for it (<see cref="Invoke{T}"/>). When no work arrives for a while it runs <see cref="Idle"/>, so a window
/// keeps answering keys and redrawing while the source is stalled or an analysis is slow.
/// </summary>
public sealed class RenderThread : IDisposable
{
    readonly BlockingCollection<Action> _work = new();
    readonly Thread _thread;
    readonly int _idleMilliseconds;
    ExceptionDispatchInfo? _postedFailure;
    int _disposed;

    public RenderThread(string name, TimeSpan idleInterval)
    {
        _idleMilliseconds = Math.Max(1, (int)idleInterval.TotalMilliseconds);
        _thread = new Thread(Loop) { Name = name, IsBackground = true };
        _thread.Start();
    }

    /// <summary>Runs on the render thread whenever no work arrived within the idle interval.</summary>
    public Action? Idle { get; set; }

    public bool IsCurrent => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    void Loop()
    {
        while (!_work.IsCompleted)
        {
            try
            {
                if (_work.TryTake(out var work, _idleMilliseconds)) work();
                else if (!_work.IsCompleted) Idle?.Invoke();
            }
            catch (Exception e)
            {
                // Posted work and idle work have no caller to throw to: the next Invoke rethrows it.
                _postedFailure ??= ExceptionDispatchInfo.Capture(e);
            }
        }
    }

    /// <summary>Queues <paramref name="work"/> and returns; a failure is rethrown by the next
    /// <see cref="Invoke{T}"/>.</summary>
    public void Post(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _work.Add(work);
    }

    /// <summary>Runs <paramref name="work"/> on the render thread and waits for it; its exception is rethrown
    /// here.</summary>
    public T Invoke<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (IsCurrent) return work();
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        using var done = new ManualResetEventSlim();
        _work.Add(() =>
        {
            try { result = work(); }
            catch (Exception e) { failure = ExceptionDispatchInfo.Capture(e); }
            finally { done.Set(); }
        });
        done.Wait();
        failure?.Throw();
        Interlocked.Exchange(ref _postedFailure, null)?.Throw();
        return result;
    }

    public void Invoke(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        Invoke(() => { work(); return true; });
    }

    /// <summary>Lets queued work finish and ends the thread. Release the context with <see cref="Invoke"/>
    /// first.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (IsCurrent) throw new InvalidOperationException("the render thread cannot dispose itself");
        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
    }
}
