//! The `taskflow` binary refuses bad configuration before doing anything, with exit code 2.

use std::process::Command;

#[test]
fn a_bad_rust_log_is_refused_with_exit_code_2_naming_the_variable() {
    // Arrange: a clean environment (no .env above the temporary directory), a filter that does not parse.
    let mut command = Command::new(env!("CARGO_BIN_EXE_taskflow"));
    command.env_clear().current_dir(std::env::temp_dir()).env("RUST_LOG", "info,sqlx=loud").arg("migrate");

    // Act
    let output = command.output().expect("running taskflow");

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("RUST_LOG"), "the message does not name RUST_LOG: {stderr}");
}
