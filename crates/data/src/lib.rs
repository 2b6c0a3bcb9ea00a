//! greenbench-data.
