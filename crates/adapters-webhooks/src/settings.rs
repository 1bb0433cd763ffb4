//! What the sender is built from.

use std::time::Duration;

use crate::signing::USER_AGENT;

/// How [`crate::ReqwestWebhookSender`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSenderSettings {
    /// The whole attempt, from connecting to reading the answer (`WEBHOOK_TIMEOUT_MS`).
    pub timeout: Duration,
    /// Connecting alone (TCP, not TLS); at most `timeout`.
    pub connect_timeout: Duration,
    /// Whether private, loopback and other non-public addresses may be called (`WEBHOOK_ALLOW_PRIVATE`); for tests
    /// and for deployments whose receivers sit on the same private network.
    pub allow_private: bool,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How much of a receiver's answer is read (and thrown away), so a connection can be reused without letting a
    /// receiver stream an endless body at us.
    pub max_response_bytes: usize,
}

impl WebhookSenderSettings {
    /// The longest connect timeout [`WebhookSenderSettings::new`] picks.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// How much of an answer [`WebhookSenderSettings::new`] reads.
    pub const MAX_RESPONSE_BYTES: usize = 4 * 1024;

    /// Settings with this overall timeout and private-address policy, and the defaults for the rest.
    #[must_use]
    pub fn new(timeout: Duration, allow_private: bool) -> Self {
        Self {
            timeout,
            connect_timeout: timeout.min(Self::CONNECT_TIMEOUT),
            allow_private,
            user_agent: USER_AGENT.to_owned(),
            max_response_bytes: Self::MAX_RESPONSE_BYTES,
        }
    }
}

impl Default for WebhookSenderSettings {
    /// The contract's defaults: 10 s, public addresses only.
    fn default() -> Self {
        Self::new(Duration::from_secs(10), false)
    }
}
