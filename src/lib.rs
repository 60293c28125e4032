//! The pomo facade library.
