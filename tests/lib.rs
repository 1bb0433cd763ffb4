//! End-to-end tests of the running `taskflow` service live in `api/`.
