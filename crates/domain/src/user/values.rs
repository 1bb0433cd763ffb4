//! The value objects a user is made of: email, name, password, password hash, role.

use std::fmt;

use crate::text::{LineError, bounded_line, string_value_object, trimmed};

/// A trimmed, lower-cased, syntactically valid email address of at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

/// Why a string is not an [`EmailAddress`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailAddressError {
    /// Nothing but whitespace.
    #[error("email must not be empty")]
    Empty,
    /// Longer than [`EmailAddress::MAX_LEN`].
    #[error("email must be at most {max} characters, got {actual}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// Not of the form `local@domain.tld`.
    #[error("email is not a valid address")]
    Invalid,
}

string_value_object!(EmailAddress, EmailAddressError);

impl EmailAddress {
    /// The longest address accepted (RFC 5321's path limit).
    pub const MAX_LEN: usize = 254;

    /// Trims, lower-cases and validates an email address.
    ///
    /// # Errors
    /// [`EmailAddressError`] when it is empty, too long or not an address.
    pub fn parse(raw: &str) -> Result<Self, EmailAddressError> {
        let (t, len) = trimmed(raw);
        if len == 0 {
            return Err(EmailAddressError::Empty);
        }
        // Lower-casing can lengthen a string (`İ` becomes two characters): the limit applies to what is stored.
        let lower = t.to_lowercase();
        let len = len.max(lower.chars().count());
        if len > Self::MAX_LEN {
            return Err(EmailAddressError::TooLong { max: Self::MAX_LEN, actual: len });
        }
        let Some((local, domain)) = lower.split_once('@') else {
            return Err(EmailAddressError::Invalid);
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok { Ok(Self(lower)) } else { Err(EmailAddressError::Invalid) }
    }
}

/// A display name: 1..=100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

/// Why a string is not a [`UserName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserNameError {
    /// Nothing but whitespace.
    #[error("name must not be empty")]
    Empty,
    /// Longer than [`UserName::MAX_LEN`].
    #[error("name must be at most {max} characters, got {actual}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// Holds a control character.
    #[error("name must not contain control characters")]
    ControlCharacter,
}

string_value_object!(UserName, UserNameError);

impl UserName {
    /// The longest name accepted, in characters.
    pub const MAX_LEN: usize = 100;

    /// Trims and validates a display name.
    ///
    /// # Errors
    /// [`UserNameError`] when it is empty, too long or holds a control character.
    pub fn parse(raw: &str) -> Result<Self, UserNameError> {
        bounded_line(raw, Self::MAX_LEN).map(Self).map_err(|e| match e {
            LineError::Empty => UserNameError::Empty,
            LineError::TooLong { max, actual } => UserNameError::TooLong { max, actual },
            LineError::ControlCharacter => UserNameError::ControlCharacter,
        })
    }
}

/// A plain-text password that meets the policy (8..=128 characters). Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// Why a string is not an acceptable [`Password`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than [`Password::MIN_LEN`].
    #[error("password must be at least {min} characters, got {actual}")]
    TooShort {
        /// The limit.
        min: usize,
        /// The length given.
        actual: usize,
    },
    /// Longer than [`Password::MAX_LEN`].
    #[error("password must be at most {max} characters, got {actual}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length given.
        actual: usize,
    },
}

impl Password {
    /// The shortest password accepted, in characters.
    pub const MIN_LEN: usize = 8;
    /// The longest password accepted, in characters (bounds the hashing cost).
    pub const MAX_LEN: usize = 128;

    /// Checks a new password against the policy. Passwords are not trimmed: every character counts.
    ///
    /// # Errors
    /// [`PasswordError`] when it is too short or too long.
    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(PasswordError::TooShort { min: Self::MIN_LEN, actual: len });
        }
        if len > Self::MAX_LEN {
            return Err(PasswordError::TooLong { max: Self::MAX_LEN, actual: len });
        }
        Ok(Self(raw.to_owned()))
    }

    /// A password presented at login, which is checked against the stored hash and not against today's policy
    /// (the demo users' passwords are shorter than it). Only its length is bounded, so hashing stays cheap.
    #[must_use]
    pub fn presented(raw: &str) -> Option<Self> {
        (raw.chars().count() <= Self::MAX_LEN).then(|| Self(raw.to_owned()))
    }

    /// The secret itself, for the password hasher only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A password hash in PHC string format. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string produced by a [`crate::ports::PasswordHasher`] or read from storage.
    #[must_use]
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for storage and verification.
    #[must_use]
    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// The stored form of "no password" (`!`, as in `/etc/shadow`): a PHC string starts with `$`, so no password
    /// ever verifies against it.
    pub const LOCKED: &str = "!";

    /// The hash of an account that has no password and cannot log in with one (an account provisioned in process).
    #[must_use]
    pub fn locked() -> Self {
        Self(Self::LOCKED.to_owned())
    }

    /// Whether this is [`Self::locked`]: the use cases refuse such an account's login without asking the hasher.
    #[must_use]
    pub fn is_locked(&self) -> bool {
        self.0 == Self::LOCKED
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// What a user may do beyond their own data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sees and changes their own tasks.
    User,
    /// Sees and changes everything.
    Admin,
}

impl Role {
    /// The wire and storage name (`user`, `admin`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }

    /// Parses the wire and storage name.
    ///
    /// # Errors
    /// [`UnknownRole`] for anything but `user` or `admin`.
    pub fn parse(raw: &str) -> Result<Self, UnknownRole> {
        match raw {
            "user" => Ok(Self::User),
            "admin" => Ok(Self::Admin),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

/// A role name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        assert_eq!(EmailAddress::parse("  Ann@Example.COM ").unwrap().as_ref(), "ann@example.com");
    }

    #[test]
    fn email_rejects_bad_shapes() {
        for (raw, why) in [
            ("", "empty"),
            ("   ", "whitespace only"),
            ("plain", "no at sign"),
            ("a@b", "no dot in domain"),
            ("@example.com", "empty local part"),
            ("a@@example.com", "two at signs"),
            ("a b@example.com", "space"),
            ("a@exa mple.com", "space in domain"),
            ("a@-example.com", "label starts with hyphen"),
            ("a..b@example.com", "double dot"),
            ("a@example..com", "empty label"),
            ("a\u{7}@example.com", "control character"),
        ] {
            assert!(EmailAddress::parse(raw).is_err(), "{why}: {raw:?} was accepted");
        }
    }

    #[test]
    fn email_length_boundary_is_254() {
        let at_max =
            format!("{}@{}.com", "a".repeat(64), "b".repeat(63) + "." + &"c".repeat(63) + "." + &"d".repeat(57));
        assert_eq!(at_max.chars().count(), 254);
        assert!(EmailAddress::parse(&at_max).is_ok());
        let over = format!("{}@{}.com", "a".repeat(64), "b".repeat(63) + "." + &"c".repeat(63) + "." + &"d".repeat(58));
        assert_eq!(EmailAddress::parse(&over), Err(EmailAddressError::TooLong { max: 254, actual: 255 }));
    }

    #[test]
    fn unicode_email_is_accepted() {
        assert!(EmailAddress::parse("jürgen@exämple.de").is_ok());
    }

    #[test]
    fn name_boundaries() {
        assert_eq!(UserName::parse(""), Err(UserNameError::Empty));
        assert_eq!(UserName::parse(" \t "), Err(UserNameError::Empty));
        assert!(UserName::parse("A").is_ok());
        assert!(UserName::parse(&"é".repeat(100)).is_ok(), "100 two-byte characters are 100 characters");
        assert_eq!(UserName::parse(&"x".repeat(101)), Err(UserNameError::TooLong { max: 100, actual: 101 }));
        assert_eq!(UserName::parse("a\u{0}b"), Err(UserNameError::ControlCharacter));
        assert_eq!(UserName::parse("  Ann  ").unwrap().as_ref(), "Ann");
    }

    #[test]
    fn password_boundaries() {
        assert_eq!(Password::parse("1234567"), Err(PasswordError::TooShort { min: 8, actual: 7 }));
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"p".repeat(128)).is_ok());
        assert_eq!(Password::parse(&"p".repeat(129)), Err(PasswordError::TooLong { max: 128, actual: 129 }));
        assert!(Password::parse("ünïcödé!").is_ok(), "eight characters, more bytes");
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let p = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
        let h = PasswordHash::from_phc("$argon2id$v=19$secret".into());
        assert!(!format!("{h:?}").contains("secret"));
    }

    #[test]
    fn only_the_locked_hash_is_locked() {
        assert!(PasswordHash::locked().is_locked());
        assert!(PasswordHash::from_phc(PasswordHash::LOCKED.to_owned()).is_locked(), "as read back from storage");
        assert!(!PasswordHash::from_phc("$argon2id$v=19$secret".into()).is_locked());
    }

    #[test]
    fn role_round_trips() {
        for role in [Role::User, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("root").is_err());
    }

    proptest! {
        #[test]
        fn parsed_names_are_trimmed_and_bounded(raw in "\\PC{0,120}") {
            if let Ok(name) = UserName::parse(&raw) {
                let n = name.as_ref().chars().count();
                prop_assert!((1..=100).contains(&n));
                prop_assert_eq!(name.as_ref(), name.as_ref().trim());
            }
        }

        #[test]
        fn parsed_emails_are_lower_case(local in "[A-Za-z0-9]{1,20}", domain in "[A-Za-z]{1,20}") {
            let email = EmailAddress::parse(&format!("{local}@{domain}.Com")).unwrap();
            prop_assert_eq!(email.as_ref(), email.as_ref().to_lowercase());
        }
    }
}
