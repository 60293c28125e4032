//! pomo-compiler (being written).
