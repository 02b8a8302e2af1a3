package push

// Enqueued reports whether a write's context says it stored an outbox
// row, which is what wakes the worker after the commit.
var Enqueued = enqueued
