//! The twenty-line program is shown in three places (README, the application's crate docs, this crate's docs via
//! `examples/quickstart.rs`): they stay the same program, and it stays within twenty lines.

const EXAMPLE: &str = include_str!("../examples/quickstart.rs");
const README: &str = include_str!("../../../README.md");
const APPLICATION_DOCS: &str = include_str!("../../application/src/lib.rs");

/// The program without its leading `//!` comment: imports to the end of `main`.
fn program() -> String {
    EXAMPLE.lines().skip_while(|l| l.starts_with("//!") || l.is_empty()).map(|l| format!("{l}\n")).collect()
}

#[test]
fn the_quickstart_takes_at_most_twenty_lines_imports_and_main_included() {
    let lines = EXAMPLE.lines().count();
    assert!(lines <= 20, "examples/quickstart.rs has {lines} lines");
    assert!(program().contains("async fn main()"));
}

#[test]
fn the_readme_shows_the_quickstart_verbatim() {
    assert!(README.contains(&format!("```rust\n{}```", program())), "README.md differs from examples/quickstart.rs");
}

#[test]
fn the_application_docs_show_the_quickstart_verbatim() {
    let docs: String = APPLICATION_DOCS
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
        .collect();
    assert!(docs.contains(&program()), "the crate docs of taskflow-application differ from examples/quickstart.rs");
}
