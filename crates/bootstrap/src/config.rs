//! Configuration: read once from the environment (and `.env`), validated, then passed down as values.
//!
//! The variable names are the contract of `shared/API.md`; a bad value stops the process with a message that
//! names the variable.

use std::fmt;
use std::net::IpAddr;

use figment::Figment;
use figment::providers::{Env, Serialized};
use serde::{Deserialize, Serialize};

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret value, for the one place that needs it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (production).
    Json,
    /// Human-readable (local development).
    Pretty,
}

/// Every setting of the `taskflow` binary. Field names are the environment variables, lower-cased.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `HOST`: the address to listen on.
    pub host: IpAddr,
    /// `PORT`: the port to listen on (0 picks a free one).
    pub port: u16,
    /// `DATABASE_URL`: PostgreSQL; unset means the embedded in-memory store.
    pub database_url: Option<Secret>,
    /// `DATABASE_MAX_CONNECTIONS`: pool size.
    pub database_max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_MS`: how long a request waits for a pooled connection before a 503.
    pub database_acquire_timeout_ms: u64,
    /// `DATABASE_STATEMENT_TIMEOUT_MS`: the longest a statement may run.
    pub database_statement_timeout_ms: u64,
    /// `REDIS_URL`: Redis; unset means in-process cache, limiter and idempotency keys.
    pub redis_url: Option<Secret>,
    /// `REDIS_KEY_PREFIX`: namespace of every Redis key.
    pub redis_key_prefix: String,
    /// `CACHE_TTL_SECS`: lifetime of cached task reads in Redis (a safety net; writes invalidate at once).
    pub cache_ttl_secs: u32,
    /// `TOKEN_KEY`: 64 hex characters; unset means an ephemeral key (tokens die with the process).
    pub token_key: Option<Secret>,
    /// `ACCESS_TOKEN_TTL_SECS`.
    pub access_token_ttl_secs: u32,
    /// `REFRESH_TOKEN_TTL_SECS`.
    pub refresh_token_ttl_secs: u32,
    /// `RATE_LIMIT_PER_MINUTE`.
    pub rate_limit_per_minute: u32,
    /// `RATE_LIMIT_AUTH_PER_MINUTE`.
    pub rate_limit_auth_per_minute: u32,
    /// `TRUST_PROXY`: believe `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// `WORKER`: run background jobs inside `serve`.
    pub worker: bool,
    /// `OVERDUE_SCAN_SECS`.
    pub overdue_scan_secs: u32,
    /// `WEBHOOK_ALLOW_PRIVATE`: allow webhook URLs on loopback, private and other reserved addresses.
    pub webhook_allow_private: bool,
    /// `WEBHOOK_TIMEOUT_MS`: how long a receiver has to answer one attempt.
    pub webhook_timeout_ms: u64,
    /// `WEBHOOK_RETRY_BASE_MS`: the wait after the first failed attempt; it doubles after each (±20 %).
    pub webhook_retry_base_ms: u64,
    /// `WEBHOOK_MAX_ATTEMPTS`: attempts before a delivery is `dead`.
    pub webhook_max_attempts: u32,
    /// `WEBHOOK_BREAKER_THRESHOLD`: consecutive failed attempts that open a receiver's circuit breaker.
    pub webhook_breaker_threshold: u32,
    /// `WEBHOOK_BREAKER_COOLDOWN_SECS`: how long an open breaker waits before its probe.
    pub webhook_breaker_cooldown_secs: u32,
    /// `WEBHOOK_DELIVERY_RETENTION_DAYS`: deliveries in a final state are pruned after this many days.
    pub webhook_delivery_retention_days: u32,
    /// `WEBHOOK_MAX_IN_FLIGHT`: delivery attempts one instance makes at once.
    pub webhook_max_in_flight: u32,
    /// `WEBHOOK_MAX_IN_FLIGHT_PER_RECEIVER`: attempts in flight to one receiver, so a slow one cannot hold every slot.
    pub webhook_max_in_flight_per_receiver: u32,
    /// `EVENT_KEEP_ALIVE_SECS`: how long an event stream may stay silent before a keep-alive comment (1 to 15).
    pub event_keep_alive_secs: u32,
    /// `EVENT_BATCH_MS`: once a read of the live event hub pushed 64 events to streams or more, the least time
    /// before its next read (0 to 1,000): what commits meanwhile reaches each stream in one write. Light fan-out is
    /// read at once.
    pub event_batch_ms: u32,
    /// `EVENT_STREAM_BUFFER`: events one stream may have waiting; past that its client is too slow and is dropped.
    pub event_stream_buffer: u32,
    /// `EVENT_STREAMS_MAX`: event streams one instance holds at most (more are refused with 503).
    pub event_streams_max: u32,
    /// `EVENT_STREAMS_PER_USER`: event streams one user may hold at once on one instance (more are 429).
    pub event_streams_per_user: u32,
    /// `LOG_FORMAT`: `json` or `pretty`.
    pub log_format: LogFormat,
    /// `RUST_LOG`: the log filter.
    pub rust_log: String,
    /// `SHUTDOWN_GRACE_SECS`: how long `serve` drains in-flight requests after SIGTERM or SIGINT before it exits.
    pub shutdown_grace_secs: u32,
    /// `MAX_IN_FLIGHT_REQUESTS`: requests one instance serves at once; more are shed with 503 and `Retry-After`.
    pub max_in_flight_requests: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 3000,
            database_url: None,
            database_max_connections: 20,
            database_acquire_timeout_ms: 3000,
            database_statement_timeout_ms: 5000,
            redis_url: None,
            redis_key_prefix: "taskflow".into(),
            cache_ttl_secs: 30,
            token_key: None,
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 604_800,
            rate_limit_per_minute: 100,
            rate_limit_auth_per_minute: 10,
            trust_proxy: false,
            worker: true,
            overdue_scan_secs: 60,
            webhook_allow_private: false,
            webhook_timeout_ms: 10_000,
            webhook_retry_base_ms: 5_000,
            webhook_max_attempts: 8,
            webhook_breaker_threshold: 5,
            webhook_breaker_cooldown_secs: 60,
            webhook_delivery_retention_days: 30,
            webhook_max_in_flight: 64,
            webhook_max_in_flight_per_receiver: 8,
            event_keep_alive_secs: 15,
            event_batch_ms: 50,
            event_stream_buffer: 256,
            event_streams_max: 16_384,
            event_streams_per_user: 128,
            log_format: LogFormat::Pretty,
            rust_log: "info,sqlx=warn,sea_orm=warn".into(),
            shutdown_grace_secs: 20,
            max_in_flight_requests: 256,
        }
    }
}

/// A configuration problem, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

const VARIABLES: [&str; 35] = [
    "HOST",
    "PORT",
    "DATABASE_URL",
    "DATABASE_MAX_CONNECTIONS",
    "DATABASE_ACQUIRE_TIMEOUT_MS",
    "DATABASE_STATEMENT_TIMEOUT_MS",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "CACHE_TTL_SECS",
    "TOKEN_KEY",
    "ACCESS_TOKEN_TTL_SECS",
    "REFRESH_TOKEN_TTL_SECS",
    "RATE_LIMIT_PER_MINUTE",
    "RATE_LIMIT_AUTH_PER_MINUTE",
    "TRUST_PROXY",
    "WORKER",
    "OVERDUE_SCAN_SECS",
    "WEBHOOK_ALLOW_PRIVATE",
    "WEBHOOK_TIMEOUT_MS",
    "WEBHOOK_RETRY_BASE_MS",
    "WEBHOOK_MAX_ATTEMPTS",
    "WEBHOOK_BREAKER_THRESHOLD",
    "WEBHOOK_BREAKER_COOLDOWN_SECS",
    "WEBHOOK_DELIVERY_RETENTION_DAYS",
    "WEBHOOK_MAX_IN_FLIGHT",
    "WEBHOOK_MAX_IN_FLIGHT_PER_RECEIVER",
    "EVENT_KEEP_ALIVE_SECS",
    "EVENT_BATCH_MS",
    "EVENT_STREAM_BUFFER",
    "EVENT_STREAMS_MAX",
    "EVENT_STREAMS_PER_USER",
    "LOG_FORMAT",
    "RUST_LOG",
    "SHUTDOWN_GRACE_SECS",
    "MAX_IN_FLIGHT_REQUESTS",
];

impl Config {
    /// Reads `.env` (if present) and the environment over the defaults, then validates.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad variable.
    pub fn load() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is worth a warning but not a refusal to start.
        if let Err(err) = dotenvy::dotenv()
            && !err.not_found()
        {
            eprintln!("warning: .env ignored: {err}");
        }
        Self::from_figment(Figment::from(Serialized::defaults(Self::default())).merge(Self::env()))
    }

    fn env() -> Env {
        // Empty values count as unset, so `DATABASE_URL=` in a .env means "in-memory".
        Env::raw().only(&VARIABLES)
    }

    /// Extracts and validates from any figment (tests use `figment::Jail`).
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad variable.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let mut config: Self = figment.extract().map_err(|err| {
            let key = err.path.last().map_or_else(|| "configuration".to_owned(), |k| k.to_uppercase());
            ConfigError(format!("{key}: {}", err.kind))
        })?;
        config.database_url = config.database_url.filter(|s| !s.0.trim().is_empty());
        config.redis_url = config.redis_url.filter(|s| !s.0.trim().is_empty());
        config.token_key = config.token_key.filter(|s| !s.0.trim().is_empty());
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("ACCESS_TOKEN_TTL_SECS", u64::from(self.access_token_ttl_secs)),
            ("REFRESH_TOKEN_TTL_SECS", u64::from(self.refresh_token_ttl_secs)),
            ("RATE_LIMIT_PER_MINUTE", u64::from(self.rate_limit_per_minute)),
            ("RATE_LIMIT_AUTH_PER_MINUTE", u64::from(self.rate_limit_auth_per_minute)),
            ("OVERDUE_SCAN_SECS", u64::from(self.overdue_scan_secs)),
            ("CACHE_TTL_SECS", u64::from(self.cache_ttl_secs)),
            ("DATABASE_MAX_CONNECTIONS", u64::from(self.database_max_connections)),
            ("DATABASE_ACQUIRE_TIMEOUT_MS", self.database_acquire_timeout_ms),
            ("DATABASE_STATEMENT_TIMEOUT_MS", self.database_statement_timeout_ms),
            ("SHUTDOWN_GRACE_SECS", u64::from(self.shutdown_grace_secs)),
            ("WEBHOOK_TIMEOUT_MS", self.webhook_timeout_ms),
            ("WEBHOOK_MAX_ATTEMPTS", u64::from(self.webhook_max_attempts)),
            ("WEBHOOK_BREAKER_THRESHOLD", u64::from(self.webhook_breaker_threshold)),
            ("WEBHOOK_BREAKER_COOLDOWN_SECS", u64::from(self.webhook_breaker_cooldown_secs)),
            ("WEBHOOK_DELIVERY_RETENTION_DAYS", u64::from(self.webhook_delivery_retention_days)),
            ("WEBHOOK_MAX_IN_FLIGHT", u64::from(self.webhook_max_in_flight)),
            ("WEBHOOK_MAX_IN_FLIGHT_PER_RECEIVER", u64::from(self.webhook_max_in_flight_per_receiver)),
            ("EVENT_STREAM_BUFFER", u64::from(self.event_stream_buffer)),
            ("EVENT_STREAMS_MAX", u64::from(self.event_streams_max)),
            ("EVENT_STREAMS_PER_USER", u64::from(self.event_streams_per_user)),
        ];
        // The contract: a comment at least every 15 s.
        if !(1..=15).contains(&self.event_keep_alive_secs) {
            return Err(ConfigError("EVENT_KEEP_ALIVE_SECS: must be from 1 to 15".into()));
        }
        // The contract: an event reaches the other instances' streams within 1 s.
        if self.event_batch_ms > 1_000 {
            return Err(ConfigError("EVENT_BATCH_MS: must be from 0 to 1000".into()));
        }
        // The contract: 20 simultaneous requests to one instance are served, not shed.
        if self.max_in_flight_requests < 20 {
            return Err(ConfigError("MAX_IN_FLIGHT_REQUESTS: must be at least 20".into()));
        }
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError(format!("{name}: must be greater than 0")));
        }
        if let Some(key) = &self.token_key
            && let Err(err) = taskflow_adapters_crypto::PasetoTokenIssuer::from_hex(key.expose())
        {
            return Err(ConfigError(format!("TOKEN_KEY: {err}")));
        }
        if let Some(url) = &self.database_url
            && !(url.0.starts_with("postgres://") || url.0.starts_with("postgresql://"))
        {
            return Err(ConfigError("DATABASE_URL: must be a postgres:// or postgresql:// URL".into()));
        }
        if let Some(url) = &self.redis_url
            && !(url.0.starts_with("redis://") || url.0.starts_with("rediss://"))
        {
            return Err(ConfigError("REDIS_URL: must be a redis:// or rediss:// URL".into()));
        }
        // A filter that does not parse is refused like any other bad value, rather than quietly becoming `info`.
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&self.rust_log) {
            return Err(ConfigError(format!("RUST_LOG: not a valid log filter ({err})")));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error.
mod tests {
    use figment::Jail;

    use super::*;

    fn load_in(jail: &mut Jail, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        for (k, v) in vars {
            jail.set_env(k, v);
        }
        Config::from_figment(Figment::from(Serialized::defaults(Config::default())).merge(Config::env()))
    }

    #[test]
    fn defaults_follow_the_contract() {
        Jail::expect_with(|jail| {
            let c = load_in(jail, &[]).unwrap();
            assert_eq!((c.host.to_string().as_str(), c.port), ("127.0.0.1", 3000));
            assert_eq!((c.access_token_ttl_secs, c.refresh_token_ttl_secs), (900, 604_800));
            assert_eq!((c.rate_limit_per_minute, c.rate_limit_auth_per_minute), (100, 10));
            assert!(c.database_url.is_none() && c.redis_url.is_none() && c.worker && !c.trust_proxy);
            assert_eq!((c.shutdown_grace_secs, c.max_in_flight_requests), (20, 256));
            assert_eq!((c.event_keep_alive_secs, c.event_batch_ms), (15, 50));
            Ok(())
        });
    }

    #[test]
    fn environment_overrides_defaults() {
        Jail::expect_with(|jail| {
            let c = load_in(jail, &[("PORT", "8080"), ("TRUST_PROXY", "true"), ("LOG_FORMAT", "json")]).unwrap();
            assert_eq!(c.port, 8080);
            assert!(c.trust_proxy);
            assert_eq!(c.log_format, LogFormat::Json);
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (var, value) in [
            ("PORT", "eighty"),
            ("PORT", "70000"),
            ("TRUST_PROXY", "maybe"),
            ("LOG_FORMAT", "xml"),
            ("RATE_LIMIT_PER_MINUTE", "0"),
            ("TOKEN_KEY", "abc"),
            ("DATABASE_URL", "mysql://x"),
            ("HOST", "not an ip"),
            ("SHUTDOWN_GRACE_SECS", "0"),
            ("MAX_IN_FLIGHT_REQUESTS", "19"),
            ("EVENT_BATCH_MS", "1001"),
            ("EVENT_KEEP_ALIVE_SECS", "16"),
            ("RUST_LOG", "info,sqlx=loud"),
            ("RUST_LOG", "taskflow=[{"),
        ] {
            Jail::expect_with(|jail| {
                let err = load_in(jail, &[(var, value)]).unwrap_err().to_string();
                assert!(err.contains(var), "{var}={value}: message {err:?} does not name the variable");
                Ok(())
            });
        }
    }

    #[test]
    fn empty_urls_mean_unset_and_secrets_do_not_print() {
        Jail::expect_with(|jail| {
            let c = load_in(jail, &[("DATABASE_URL", ""), ("TOKEN_KEY", &"ab".repeat(32))]).unwrap();
            assert!(c.database_url.is_none());
            assert!(!format!("{c:?}").contains("abab"), "the token key leaked into Debug");
            Ok(())
        });
    }
}
