using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;

namespace LiveCam.Pipeline.Operators;

public static class ObserveLatestOnExtensions
{
    /// <summary>
    /// Like <c>ObserveOn</c>, but never queues: the consumer on <paramref name="scheduler"/> gets the newest
    /// item when it is free; an item replaced before it was taken is released and reported as dropped.
    /// </summary>
    /// <param name="retain">Takes a reference the operator owns (e.g. <c>frame.Share()</c>), called on the producer's
    /// thread.</param>
    /// <param name="release">Releases a retained item: after the consumer's <c>OnNext</c> returns, or when it is
    /// dropped.</param>
    /// <param name="dropped">Told of each item released without being delivered (before it is released).</param>
    public static IObservable<T> ObserveLatestOn<T>(this IObservable<T> source, IScheduler scheduler,
        Func<T, T> retain, Action<T> release, Action<T>? dropped = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(retain);
        ArgumentNullException.ThrowIfNull(release);
        return Observable.Create<T>(observer =>
            new LatestSlot<T>(observer, scheduler, retain, release, dropped).Attach(source));
    }

    sealed class LatestSlot<T> : IObserver<T>, IDisposable
    {
        readonly IObserver<T> _observer;
        readonly IScheduler _scheduler;
        readonly Func<T, T> _retain;
        readonly Action<T> _release;
        readonly Action<T>? _dropped;
        readonly object _gate = new();
        readonly SingleAssignmentDisposable _upstream = new();
        T? _pending;
        bool _hasPending, _draining, _completed, _disposed;
        Exception? _error;

        public LatestSlot(
            IObserver<T> observer, IScheduler scheduler, Func<T, T> retain, Action<T> release, Action<T>? dropped)
        {
            _observer = observer;
            _scheduler = scheduler;
            _retain = retain;
            _release = release;
            _dropped = dropped;
        }

        public LatestSlot<T> Attach(IObservable<T> source)
        {
            _upstream.Disposable = source.Subscribe(this);
            return this;
        }

        public void OnNext(T value)
        {
            var held = _retain(value);
            T? replaced = default;
            bool hadPending, schedule = false, drop = false;
            lock (_gate)
            {
                if (_disposed || _completed || _error is not null) { drop = true; hadPending = false; }
                else
                {
                    hadPending = _hasPending;
                    replaced = _pending;
                    _pending = held;
                    _hasPending = true;
                    if (!_draining) _draining = schedule = true;
                }
            }
            if (drop) Drop(held);
            if (hadPending) Drop(replaced!);
            if (schedule) _scheduler.Schedule(Drain);
        }

        void Drop(T item)
        {
            try { _dropped?.Invoke(item); }
            finally { _release(item); }
        }

        public void OnError(Exception error) => Terminate(error);
        public void OnCompleted() => Terminate(null);

        void Terminate(Exception? error)
        {
            bool schedule = false;
            lock (_gate)
            {
                if (_completed || _error is not null) return;
                if (error is null) _completed = true; else _error = error;
                if (!_draining) _draining = schedule = true;
            }
            if (schedule) _scheduler.Schedule(Drain);
        }

        void Drain()
        {
            while (true)
            {
                T item;
                lock (_gate)
                {
                    if (!_hasPending)
                    {
                        _draining = false;
                        if (_disposed) return;
                        if (_error is not null) { _observer.OnError(_error); return; }
                        if (_completed) { _observer.OnCompleted(); return; }
                        return;
                    }
                    item = _pending!;
                    _pending = default;
                    _hasPending = false;
                }
                if (Volatile.Read(ref _disposed)) { Drop(item); continue; }
                // As with ObserveOn, an observer that throws is a bug and is not turned into OnError.
                try { _observer.OnNext(item); }
                finally { _release(item); }
            }
        }

        public void Dispose()
        {
            T? pending = default;
            bool hadPending;
            lock (_gate)
            {
                if (_disposed) return;
                _disposed = true;
                hadPending = _hasPending;
                pending = _pending;
                _pending = default;
                _hasPending = false;
            }
            _upstream.Dispose();
            if (hadPending) Drop(pending!);
        }
    }
}
