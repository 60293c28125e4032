//! pomo-stdlib (stub, being written).
