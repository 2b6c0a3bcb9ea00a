//! greenbench-meter.
