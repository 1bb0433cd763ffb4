//! Router-level tests of the HTTP edge rules, driven with `oneshot` over the in-memory adapters: every error class
//! as a problem document, the extractors' rejections, and the headers clients rely on (shared/API.md).

#[path = "../common/mod.rs"]
mod common;

mod doubles;
mod extractors;
mod headers;
mod history;
mod problems;
mod webhooks;
