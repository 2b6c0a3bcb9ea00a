//! greenbench-runner.
