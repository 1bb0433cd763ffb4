//! How to reach Redis and how impatient to be with it.

use std::time::Duration;

/// Connection, timeout and circuit-breaker settings for [`crate::RedisClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// The server, such as `redis://127.0.0.1:6379/0`.
    pub url: String,
    /// Prepended to every key (`{key_prefix}:rl:…`), so deployments and tests can share one server.
    pub key_prefix: String,
    /// The longest one command may take, including waiting for its reply.
    pub command_timeout: Duration,
    /// The longest opening the connection (or waiting for another call to open it) may take.
    pub connect_timeout: Duration,
    /// Consecutive failures after which the circuit breaker opens.
    pub breaker_failure_threshold: u32,
    /// How long an open breaker fails calls fast before letting one probe through.
    pub breaker_cooldown: Duration,
}

impl RedisSettings {
    /// The default settings for a server at `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), ..Self::default() }
    }

    /// The same settings with another key prefix.
    #[must_use]
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".to_owned(),
            key_prefix: "taskflow".to_owned(),
            command_timeout: Duration::from_millis(250),
            connect_timeout: Duration::from_millis(500),
            breaker_failure_threshold: 5,
            breaker_cooldown: Duration::from_secs(5),
        }
    }
}
