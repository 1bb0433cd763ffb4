//! Shared text rules: trimming, counting Unicode characters and refusing control characters (category Cc), and
//! the trait impls every string value object has.

/// Trims `raw` and returns it with its length in Unicode scalar values.
pub(crate) fn trimmed(raw: &str) -> (&str, usize) {
    let t = raw.trim();
    (t, t.chars().count())
}

/// Why a string is not a bounded single-line text.
pub(crate) enum LineError {
    Empty,
    TooLong { max: usize, actual: usize },
    ControlCharacter,
}

/// Trims `raw` and checks it is 1..=`max` characters with no control character.
pub(crate) fn bounded_line(raw: &str, max: usize) -> Result<String, LineError> {
    let (t, len) = trimmed(raw);
    if len == 0 {
        return Err(LineError::Empty);
    }
    if len > max {
        return Err(LineError::TooLong { max, actual: len });
    }
    if t.chars().any(char::is_control) {
        return Err(LineError::ControlCharacter);
    }
    Ok(t.to_owned())
}

/// `as_str`, `AsRef<str>`, `Display` and `TryFrom<String>` (through `parse`) for a string newtype.
macro_rules! string_value_object {
    ($name:ident, $error:ident) => {
        impl $name {
            /// The validated text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $error;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
    };
}
pub(crate) use string_value_object;
