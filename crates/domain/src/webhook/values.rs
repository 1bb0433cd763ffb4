//! The value objects a webhook is made of.

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::events::TaskEventKind;

/// A webhook URL: absolute `http` or `https`, with a host and no user-info, at most 2,048 characters.
///
/// Numeric host forms are normalised the way browsers and HTTP clients read them (`http://2130706433/` is
/// `http://127.0.0.1/`), so [`WebhookUrl::host`] is the address a client would actually connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

/// Why a string is not a [`WebhookUrl`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    /// Longer than [`WebhookUrl::MAX_LEN`].
    #[error("url must be at most {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Not an absolute URL.
    #[error("url must be an absolute http or https URL")]
    Malformed,
    /// Another scheme than `http` or `https`.
    #[error("url must use http or https")]
    Scheme,
    /// Has a user name or password.
    #[error("url must not contain credentials")]
    UserInfo,
    /// Has no host.
    #[error("url must have a host")]
    NoHost,
}

/// The host part of a [`WebhookUrl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookUrlHost<'a> {
    /// A DNS name, resolved at delivery time.
    Domain(&'a str),
    /// An IP address literal (IPv4, or IPv6 without brackets).
    Ip(IpAddr),
}

impl WebhookUrl {
    /// The longest URL accepted, in characters.
    pub const MAX_LEN: usize = 2048;

    /// Parses and validates a URL.
    ///
    /// # Errors
    /// [`WebhookUrlError`] naming the first rule broken.
    pub fn parse(raw: &str) -> Result<Self, WebhookUrlError> {
        let raw = raw.trim();
        if raw.chars().count() > Self::MAX_LEN {
            return Err(WebhookUrlError::TooLong { max: Self::MAX_LEN });
        }
        let url = url::Url::parse(raw).map_err(|_| WebhookUrlError::Malformed)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(WebhookUrlError::Scheme);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::UserInfo);
        }
        if url.host().is_none() {
            return Err(WebhookUrlError::NoHost);
        }
        if url.as_str().len() > Self::MAX_LEN {
            return Err(WebhookUrlError::TooLong { max: Self::MAX_LEN });
        }
        Ok(Self(url))
    }

    /// The normalised URL.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host to connect to.
    #[must_use]
    pub fn host(&self) -> WebhookUrlHost<'_> {
        match self.0.host() {
            Some(url::Host::Ipv4(v4)) => WebhookUrlHost::Ip(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => WebhookUrlHost::Ip(IpAddr::V6(v6)),
            Some(url::Host::Domain(name)) => WebhookUrlHost::Domain(name),
            // `parse` refuses URLs without a host.
            None => WebhookUrlHost::Domain(""),
        }
    }

    /// The port to connect to (the scheme's default when none is given).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(80)
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The non-empty set of event kinds a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventTypes(u8);

/// Why a list of names is not an [`EventTypes`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventTypesError {
    /// No event named.
    #[error("events must name at least one event")]
    Empty,
    /// A name that is not an event kind.
    #[error("unknown event {0:?}")]
    Unknown(String),
    /// A name given twice.
    #[error("event {0:?} is listed twice")]
    Duplicate(String),
}

impl EventTypes {
    const fn bit(kind: TaskEventKind) -> u8 {
        1 << (kind as u8)
    }

    /// Parses 1..=5 distinct event names such as `task.created`.
    ///
    /// # Errors
    /// [`EventTypesError`] for an empty list, an unknown name or a repeated one.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, EventTypesError> {
        let mut set = 0u8;
        for name in names {
            let name = name.as_ref();
            let kind = TaskEventKind::parse(name).map_err(|_| EventTypesError::Unknown(name.to_owned()))?;
            if set & Self::bit(kind) != 0 {
                return Err(EventTypesError::Duplicate(name.to_owned()));
            }
            set |= Self::bit(kind);
        }
        if set == 0 {
            return Err(EventTypesError::Empty);
        }
        Ok(Self(set))
    }

    /// A set of the given kinds (duplicates collapse).
    ///
    /// # Errors
    /// [`EventTypesError::Empty`] when `kinds` is empty.
    pub fn of(kinds: &[TaskEventKind]) -> Result<Self, EventTypesError> {
        let set = kinds.iter().fold(0u8, |set, k| set | Self::bit(*k));
        if set == 0 { Err(EventTypesError::Empty) } else { Ok(Self(set)) }
    }

    /// Whether `kind` is in the set.
    #[must_use]
    pub const fn contains(self, kind: TaskEventKind) -> bool {
        self.0 & Self::bit(kind) != 0
    }

    /// The kinds in the set, in [`TaskEventKind::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = TaskEventKind> {
        TaskEventKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }

    /// The wire names, in [`TaskEventKind::ALL`] order.
    #[must_use]
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(TaskEventKind::as_str).collect()
    }
}

/// A note about a webhook: at most 500 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDescription(String);

/// Why a string is not a [`WebhookDescription`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookDescriptionError {
    /// Longer than [`WebhookDescription::MAX_LEN`].
    #[error("description must be at most {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Holds a control character.
    #[error("description must not contain control characters")]
    ControlCharacter,
}

impl WebhookDescription {
    /// The longest description accepted, in characters.
    pub const MAX_LEN: usize = 500;

    /// Trims and validates a description; an empty one is `None`.
    ///
    /// # Errors
    /// [`WebhookDescriptionError`] when too long or holding a control character.
    pub fn parse(raw: &str) -> Result<Option<Self>, WebhookDescriptionError> {
        let trimmed = raw.trim();
        if trimmed.chars().count() > Self::MAX_LEN {
            return Err(WebhookDescriptionError::TooLong { max: Self::MAX_LEN });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(WebhookDescriptionError::ControlCharacter);
        }
        Ok((!trimmed.is_empty()).then(|| Self(trimmed.to_owned())))
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A webhook's signing secret: `whsec_` followed by the base64 of 32 random bytes, which are the HMAC key.
///
/// Its `Debug` form never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: [u8; 32],
}

/// Why a string is not a [`WebhookSecret`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is whsec_ followed by the base64 of 32 bytes")]
pub struct WebhookSecretError;

impl WebhookSecret {
    const PREFIX: &'static str = "whsec_";

    /// The secret with these key bytes (from a random source).
    #[must_use]
    pub const fn from_key(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// Parses the `whsec_…` form.
    ///
    /// # Errors
    /// [`WebhookSecretError`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, WebhookSecretError> {
        let b64 = raw.strip_prefix(Self::PREFIX).ok_or(WebhookSecretError)?;
        let bytes = STANDARD.decode(b64).map_err(|_| WebhookSecretError)?;
        let key = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| WebhookSecretError)?;
        Ok(Self { key })
    }

    /// The HMAC key.
    #[must_use]
    pub const fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The `whsec_…` form, shown to the owner once and stored.
    #[must_use]
    pub fn expose(&self) -> String {
        format!("{}{}", Self::PREFIX, STANDARD.encode(self.key))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_hosts_are_read_as_the_address_they_name() {
        let url = WebhookUrl::parse("http://2130706433/hook").unwrap();
        assert_eq!(url.host(), WebhookUrlHost::Ip(IpAddr::from([127, 0, 0, 1])));
        let url = WebhookUrl::parse("http://[::ffff:10.0.0.1]:8080/").unwrap();
        assert!(matches!(url.host(), WebhookUrlHost::Ip(IpAddr::V6(_))));
        assert_eq!(url.port(), 8080);
    }

    #[test]
    fn urls_without_http_a_host_or_with_credentials_are_refused() {
        assert_eq!(WebhookUrl::parse("ftp://example.com/"), Err(WebhookUrlError::Scheme));
        assert_eq!(WebhookUrl::parse("https://u:p@example.com/"), Err(WebhookUrlError::UserInfo));
        assert_eq!(WebhookUrl::parse("example.com/hook"), Err(WebhookUrlError::Malformed));
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert_eq!(WebhookUrl::parse(&long), Err(WebhookUrlError::TooLong { max: 2048 }));
        assert!(WebhookUrl::parse("https://example.com/hook?x=1").is_ok());
    }

    #[test]
    fn event_types_are_distinct_known_and_not_empty() {
        let set = EventTypes::parse(&["task.completed", "task.created"]).unwrap();
        assert_eq!(set.names(), ["task.created", "task.completed"]);
        assert!(!set.contains(TaskEventKind::Deleted));
        assert_eq!(EventTypes::parse::<&str>(&[]), Err(EventTypesError::Empty));
        assert_eq!(EventTypes::parse(&["task.moved"]), Err(EventTypesError::Unknown("task.moved".into())));
        assert_eq!(
            EventTypes::parse(&["task.created", "task.created"]),
            Err(EventTypesError::Duplicate("task.created".into()))
        );
    }

    #[test]
    fn a_secret_round_trips_and_never_debug_prints() {
        let secret = WebhookSecret::from_key([7; 32]);
        let shown = secret.expose();
        assert!(shown.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&shown), Ok(secret.clone()));
        assert!(!format!("{secret:?}").contains(&shown[6..]));
        assert_eq!(WebhookSecret::parse("whsec_AAAA"), Err(WebhookSecretError));
    }

    #[test]
    fn descriptions_are_trimmed_and_bounded() {
        assert_eq!(WebhookDescription::parse("  "), Ok(None));
        assert_eq!(WebhookDescription::parse(" ci ").unwrap().unwrap().as_str(), "ci");
        assert!(WebhookDescription::parse("a\u{7}b").is_err());
        assert!(WebhookDescription::parse(&"x".repeat(501)).is_err());
    }
}
