//! Message templates (in progress).
