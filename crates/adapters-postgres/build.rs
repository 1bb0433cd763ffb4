//! Fingerprints the migrations' source, so the test harness (feature `testing`) names its template database after
//! the schema without a hand-kept list of migration files: adding a migration touches only the migration itself.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

fn main() {
    let dir = Path::new("src/migration");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut h = DefaultHasher::new();
    for file in files {
        file.file_name().hash(&mut h);
        std::fs::read(&file).unwrap_or_default().hash(&mut h);
    }
    println!("cargo:rustc-env=TASKFLOW_MIGRATIONS_FINGERPRINT={:016x}", h.finish());
}
