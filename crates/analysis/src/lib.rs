//! greenbench-analysis.
