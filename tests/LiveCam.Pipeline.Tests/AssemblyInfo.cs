// Tests here count process-wide native buffers (Frame.LivePixelBuffers): run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
