//! Shared text rules: trimming, counting Unicode characters and refusing control characters (category Cc).

/// Trims `raw` and returns it with its length in Unicode scalar values.
pub(crate) fn trimmed(raw: &str) -> (&str, usize) {
    let t = raw.trim();
    (t, t.chars().count())
}

/// Whether `s` holds a control character (Unicode category Cc).
pub(crate) fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}
