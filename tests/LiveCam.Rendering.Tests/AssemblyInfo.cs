// One GL context per test, made current on the test's thread: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
