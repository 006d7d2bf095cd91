// Tests here count live tensors and hooks: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
