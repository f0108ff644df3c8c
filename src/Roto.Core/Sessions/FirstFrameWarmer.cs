using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Roto.Media;
using Roto.Vision;

namespace Roto.Core.Sessions;

/// <summary>
/// Decodes and analyses a new session's frame 0 in the background, while the person looks at it: most first clicks
/// land there, and then cost a cut instead of a decode plus a ResNet pass. A click that arrives while the frame is
/// being prepared waits for it rather than doing the same work beside it; one that arrives while the job still waits
/// for a core takes the job over (the job is skipped), so a click never queues behind other sessions' preparations.
/// The segmenter's and the tracker's networks are loaded at start for the same reason. Only caches are filled: work
/// lost to a restart or dropped under load costs nothing but the time it would save.
/// </summary>
public sealed class FirstFrameWarmer : BackgroundService
{
    public const int Frame = 0;
    public const string ClickSegmenter = "click segmenter";
    public const string Tracker = "tracker";

    private readonly IOptions<RotoOptions> _options;
    private readonly IClickSegmenter _segmenter;
    private readonly IMaskPropagator _propagator;
    private readonly FrameCache _frames;
    private readonly ComputeGate _gate;
    private readonly ILogger<FirstFrameWarmer> _log;
    private readonly ConcurrentDictionary<string, Job> _pending = new();
    private readonly ConcurrentQueue<string> _loaded = new();
    /// <summary>Sessions waiting for a free core; under a burst of inits the oldest are dropped, not queued for ever.</summary>
    private readonly Channel<Job> _queue;

    /// <summary>A class, not a record: the pending table removes a job by identity, and the state changes.</summary>
    private sealed class Job(string sessionId, string videoKey, VideoSource video, TaskCompletionSource done)
    {
        public string SessionId { get; } = sessionId;
        public string VideoKey { get; } = videoKey;
        public VideoSource Video { get; } = video;
        public TaskCompletionSource Done { get; } = done;

        private const int Queued = 0, Running = 1, Skipped = 2;
        private int _state;

        /// <summary>The worker's claim: false when a click took the job over first.</summary>
        public bool TryStart() => Interlocked.CompareExchange(ref _state, Running, Queued) == Queued;

        /// <summary>A click's claim: false when the worker is already on it.</summary>
        public bool TrySkip() => Interlocked.CompareExchange(ref _state, Skipped, Queued) == Queued;
    }

    public FirstFrameWarmer(IOptions<RotoOptions> options, IClickSegmenter segmenter, IMaskPropagator propagator, FrameCache frames, ComputeGate gate,
        ILogger<FirstFrameWarmer> log)
    {
        (_options, _segmenter, _propagator, _frames, _gate, _log) = (options, segmenter, propagator, frames, gate, log);
        _queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(4) { FullMode = BoundedChannelFullMode.DropOldest }, Finish);
    }

    /// <summary>The engines loaded at start so far, in order (for tests and diagnostics).</summary>
    public IReadOnlyCollection<string> LoadedEngines => _loaded;

    /// <summary>Whether frame 0 of the session is queued or being prepared (for tests and diagnostics).</summary>
    public bool IsPending(string sessionId) => _pending.ContainsKey(sessionId);

    public void Schedule(string sessionId, string videoKey, VideoSource video)
    {
        if (!_options.Value.WarmFirstFrame || video.FrameCount <= Frame) return;
        var job = new Job(sessionId, videoKey, video, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _pending[sessionId] = job;
        if (!_queue.Writer.TryWrite(job)) Finish(job);
    }

    /// <summary>Waits until the frame is prepared if it is being prepared now; returns at once otherwise.</summary>
    public Task WhenPreparedAsync(string sessionId, int frameIndex, CancellationToken ct)
    {
        if (frameIndex != Frame || !_pending.TryGetValue(sessionId, out var job)) return Task.CompletedTask;
        if (job.TrySkip())
        {
            Finish(job);
            return Task.CompletedTask;
        }
        return job.Done.Task.WaitAsync(ct);
    }

    /// <summary>The keys that <see cref="SessionService"/> looks a decoded frame and its analysis up by.</summary>
    public static string FrameKey(string videoKey, int frameIndex) => $"{videoKey}#{frameIndex}";
    public static string AnalysisKey(string sessionId, int frameIndex) => $"{sessionId}/{frameIndex}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (_options.Value.WarmFirstFrame) await LoadEnginesAsync(stoppingToken);
            await foreach (var job in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                if (job.Done.Task.IsCompleted) continue; // a click took it over while it waited in the queue
                using var slot = await _gate.EnterAsync(stoppingToken);
                if (!job.TryStart()) continue;
                try
                {
                    var laterIndex = SessionService.LaterIndex(Frame, job.Video.FrameCount, _segmenter.LaterFrames);
                    var frames = laterIndex is { } li
                        ? await FrameGrabber.ReadPairAsync(job.Video, Frame, li, stoppingToken)
                        : (await FrameGrabber.ReadAsync(job.Video, Frame, stoppingToken), null);
                    using var frame = frames.Item1;
                    using var later = frames.Item2;
                    _frames.Put(FrameKey(job.VideoKey, Frame), frame);
                    if (later != null) _frames.Put(FrameKey(job.VideoKey, laterIndex!.Value), later);
                    _segmenter.Prepare(frame, AnalysisKey(job.SessionId, Frame), later);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The first click then does the work itself, and reports any failure to the person who clicked.
                    _log.LogDebug(ex, "Frame {Frame} of session {SessionId} was not prepared ahead", Frame, job.SessionId);
                }
                finally
                {
                    Finish(job);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: whatever is queued is released below.
        }
        finally
        {
            while (_queue.Reader.TryRead(out var left)) Finish(left);
        }
    }

    /// <summary>
    /// Loads the segmenter and the tracker once at start: loading their networks takes seconds, and without this the
    /// first session after a start would wait for them on its first click (measured on 01_dog: 3.8 s instead of 0.6 s)
    /// and its first preview (the tracker's network: 0.4-0.7 s).
    /// </summary>
    private async Task LoadEnginesAsync(CancellationToken ct)
    {
        using var slot = await _gate.EnterAsync(ct);
        await LoadAsync(_segmenter.Load, ClickSegmenter, "first click", ct);
        await LoadAsync(_propagator.Load, Tracker, "first preview", ct);
        // The pass timed at load sets how many frames every preview corrects until the next start: worth a line.
        if (_propagator is Vision.Propagation.FlowColourPropagator { Anchor: Vision.Learned.SamTrackAnchor anchor })
            _log.LogInformation("A preview's corrections are planned on one encoder pass of {Seconds:0.000} s (timed at load; {Budget} s of passes a preview)",
                anchor.SecondsPerEncode, anchor.Options.PreviewBudgetSeconds);
    }

    private async Task LoadAsync(Action load, string engine, string firstUse, CancellationToken ct)
    {
        try
        {
            var started = Stopwatch.GetTimestamp();
            await Task.Run(load, ct);
            _loaded.Enqueue(engine);
            _log.LogInformation("The {Engine} was loaded in {Seconds:0.00} s", engine, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            _log.LogWarning(ex, "The {Engine} could not be loaded at start; the {FirstUse} will try again", engine, firstUse);
        }
    }

    private void Finish(Job job)
    {
        _pending.TryRemove(new KeyValuePair<string, Job>(job.SessionId, job));
        job.Done.TrySetResult();
    }
}
