using System.Globalization;
using System.Reactive.Concurrency;
using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Models;
using LiveCam.Models.Teach;
using LiveCam.Pipeline.Sinks.Window;
using LiveCam.App.Commands.Run;

namespace LiveCam.App.Commands.Teach;

/// <summary>
/// Teaching live: keys 1 to 9 add the frame on screen (in a few lightly changed views) to a class, 0 forgets them all.
/// A teacher with its own copy of the network makes the examples' features and trains the head on its own thread, so
/// the video and the explanation go on; each new head is offered to the explained network, which takes it before its
/// next analysis.
/// </summary>
internal sealed class TeachMode : ILiveMode
{
    readonly Func<VisionModel> _loadFeatures;
    readonly IReadOnlyList<string> _names;
    readonly TaughtHead? _start;
    readonly int _views;
    readonly IScheduler _thread;
    readonly Action<string> _log;
    HeadTeacher? _teacher;      // teacher thread only, after Prepare
    TaughtNetwork? _network;
    TaughtHead? _head;
    int _pending;
    volatile string _status = "";

    /// <param name="loadFeatures">Loads another instance of the network of features, for the teacher's thread.</param>
    /// <param name="start">A saved head to go on teaching from.</param>
    /// <param name="thread">Where examples are made and heads trained (borrowed).</param>
    /// <param name="log">A line for the terminal when an example is learnt (from the teacher's thread).</param>
    public TeachMode(Func<VisionModel> loadFeatures, IReadOnlyList<string> classNames, TaughtHead? start, int views,
        IScheduler thread, Action<string> log)
    {
        _log = log ?? throw new ArgumentNullException(nameof(log));
        _loadFeatures = loadFeatures ?? throw new ArgumentNullException(nameof(loadFeatures));
        _names = classNames ?? throw new ArgumentNullException(nameof(classNames));
        _start = start;
        _views = views;
        _thread = thread ?? throw new ArgumentNullException(nameof(thread));
    }

    public string Describe() => $"teach: keys 1-{_names.Count} add the frame to "
        + $"{string.Join(", ", _names.Select((n, i) => $"{i + 1} {n}"))}; 0 forgets all";

    public VisionModel Prepare(VisionModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        // A saved head must fit this network (checked here, before its examples are taken up).
        var taught = TaughtModel.Attach(model, _start);
        HeadTeacher? teacher = null;
        try
        {
            teacher = new HeadTeacher(_loadFeatures(), _names) { Views = _views };
            if (_start is not null) teacher.Remember(_start);
            _network = (TaughtNetwork)taught.Network;
            _head = teacher.Train();
            _network.Offer(_head);
            _status = Status(_head, null);
            _teacher = teacher;
            return taught;
        }
        catch (Exception e)
        {
            teacher?.Dispose();
            taught.Dispose();
            if (e is ArgumentException) throw new UsageException(e.Message, e);
            throw;
        }
    }

    public IEnumerable<KeyBinding> Keys(Func<Frame?> onScreen)
    {
        ArgumentNullException.ThrowIfNull(onScreen);
        var add = Enumerable.Range(0, _names.Count)
            .Select(k => ('1' + k, (Action)(() => Add(k, onScreen())))).ToArray();
        yield return KeyTable.Bind($"1 - {_names.Count}", "teach: the frame is an example of that class", add);
        yield return KeyTable.Bind("0", "teach: forget every example", ('0', Forget));
    }

    public IEnumerable<HudLine> Hud()
    {
        yield return new HudLine(_status, HudText.Notice);
    }

    void Add(int classIndex, Frame? frame)
    {
        if (frame is null || _teacher is null) return;
        var image = frame.Pixels.Clone();  // the teacher's copy: the frame goes on to the next stage
        long sequence = frame.Sequence;
        Interlocked.Increment(ref _pending);
        _status = $"teach: learning {_names[classIndex]}...";
        _thread.Schedule(() => Safely(() =>
        {
            try { _teacher.Add(classIndex, image); }
            finally { image.Dispose(); }
            _log(string.Create(CultureInfo.InvariantCulture,
                $"teach: learnt {_names[classIndex]} from frame {sequence} ({_views} views)"));
        }));
    }

    void Forget()
    {
        if (_teacher is null) return;
        Interlocked.Increment(ref _pending);
        _thread.Schedule(() => Safely(() =>
        {
            _teacher.Clear();
            _log("teach: forgot every example");
        }));
    }

    /// <summary>Runs one piece of the teacher's work, then trains once the examples asked for so far are in (a burst of
    /// key presses trains once). A failure is one line and the run goes on with the head it had.</summary>
    void Safely(Action work)
    {
        try { work(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log($"teach: could not learn that ({e.GetType().Name}: {e.Message.Split('\n')[0]})");
        }
        if (Interlocked.Decrement(ref _pending) > 0) return;
        try
        {
            var head = _teacher!.Train(out var took);
            Volatile.Write(ref _head, head);
            _network!.Offer(head);
            _status = Status(head, took);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log($"teach: could not train ({e.GetType().Name}: {e.Message.Split('\n')[0]})");
        }
    }

    string Status(TaughtHead head, TimeSpan? took)
    {
        var counts = _names
            .Select(n => head.Classes.ToList().IndexOf(n) is var i and >= 0 ? head.Examples[i] / _views : 0).ToList();
        var classes = string.Join("  ",
            _names.Select((n, i) => string.Create(CultureInfo.InvariantCulture, $"{i + 1} {n} ({counts[i]})")));
        var trained = took is { } t && head.IsTrained
            ? string.Create(CultureInfo.InvariantCulture, $", trained in {t.TotalSeconds:0.00} s")
            : "";
        return $"teach: {classes}{trained}";
    }

    /// <summary>Waits for the examples asked for to be learnt, then gives the newest head.</summary>
    public TaughtHead? Finish()
    {
        using var done = new ManualResetEventSlim();
        _thread.Schedule(done.Set);
        done.Wait(TimeSpan.FromMinutes(2));
        return Volatile.Read(ref _head);
    }

    public void Dispose()
    {
        if (_teacher is null) return;
        using var done = new ManualResetEventSlim();
        var teacher = _teacher;
        _thread.Schedule(() =>
        {
            teacher.Dispose();
            done.Set();
        });
        done.Wait(TimeSpan.FromMinutes(2));
        _teacher = null;
    }
}
