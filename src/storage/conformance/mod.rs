//! The behaviour every storage backend must show, run against each one.
