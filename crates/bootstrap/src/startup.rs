//! The application builder: adapters -> use cases -> router, bound to a listener, with background jobs.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::Duration as ChronoDuration;
use taskflow_adapters_http::server::{Drained, ServerSettings, serve};
use taskflow_adapters_http::{AppState, HttpSettings, observability, router};
use taskflow_application::auth::{AuthService, AuthSettings};
use taskflow_application::events::{LiveEvents, LiveSettings};
use taskflow_application::health::HealthService;
use taskflow_application::idempotency::IdempotencyService;
use taskflow_application::rate_limits::RateLimitService;
use taskflow_application::tasks::TaskService;
use taskflow_application::users::UserService;
use taskflow_application::webhooks::WebhookService;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::backends::{self, Backends, Storage};
use crate::config::Config;
use crate::{seed, worker};

/// The use cases and HTTP state over `backends`.
#[must_use]
pub fn app_state(backends: &Backends, config: &Config) -> AppState {
    let deps = backends.deps.clone();
    let auth = AuthSettings {
        access_ttl: ChronoDuration::seconds(i64::from(config.access_token_ttl_secs)),
        refresh_ttl: ChronoDuration::seconds(i64::from(config.refresh_token_ttl_secs)),
    };
    let live = LiveSettings {
        stream_buffer: config.event_stream_buffer as usize,
        max_streams: config.event_streams_max as usize,
        max_streams_per_user: config.event_streams_per_user as usize,
        batch_interval: Duration::from_millis(u64::from(config.event_batch_ms)),
        ..LiveSettings::default()
    };
    AppState {
        live: Arc::new(LiveEvents::new(backends.feed.clone(), deps.revoked_users.clone(), live)),
        auth: Arc::new(AuthService::new(deps.clone(), auth)),
        users: Arc::new(UserService::new(deps.clone())),
        tasks: Arc::new(TaskService::new(deps.clone())),
        webhooks: Arc::new(WebhookService::new(deps)),
        health: Arc::new(HealthService::new(backends.database_health.clone(), backends.redis_health.clone())),
        idempotency: Arc::new(IdempotencyService::new(backends.idempotency.clone())),
        rate_limits: Arc::new(RateLimitService::new(backends.limiter.clone())),
        settings: HttpSettings {
            rate_limit_per_minute: config.rate_limit_per_minute,
            rate_limit_auth_per_minute: config.rate_limit_auth_per_minute,
            trust_proxy: config.trust_proxy,
            request_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            max_in_flight: config.max_in_flight_requests as usize,
            event_keep_alive: Duration::from_secs(u64::from(config.event_keep_alive_secs)),
        },
        metrics: observability::prometheus_handle(),
    }
}

/// Applies pending migrations (PostgreSQL only).
///
/// # Errors
/// When a migration fails.
pub async fn migrate(backends: &Backends) -> anyhow::Result<()> {
    match &backends.storage {
        Storage::Postgres(pg) => {
            taskflow_adapters_postgres::migrate(pg.connection()).await.context("applying migrations")?;
            tracing::info!("migrations applied");
        }
        Storage::Memory(_) => tracing::info!("in-memory store: nothing to migrate"),
    }
    Ok(())
}

/// A built, bound application, ready to run.
pub struct Application {
    listener: TcpListener,
    port: u16,
    state: AppState,
    backends: Backends,
    run_worker: bool,
    config: Config,
    max_connections: u32,
    server: ServerSettings,
}

impl Application {
    /// Builds the adapters, applies migrations, creates the demo users in the embedded mode, and binds
    /// `HOST:PORT` (port 0 picks a free port: see [`Self::port`]).
    ///
    /// # Errors
    /// When a dependency cannot be set up or the address cannot be bound.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let backends = backends::build(config).await?;
        migrate(&backends).await?;
        if matches!(backends.storage, Storage::Memory(_)) {
            seed::ensure_demo_users(&backends.deps).await?;
            tracing::info!("demo users ready: admin@example.com / admin123, user@example.com / user123");
        }
        let state = app_state(&backends, config);
        let listener = TcpListener::bind((config.host, config.port))
            .await
            .with_context(|| format!("binding {}:{}", config.host, config.port))?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            listener,
            port,
            state,
            backends,
            run_worker: config.worker,
            config: config.clone(),
            max_connections: config.database_max_connections,
            server: ServerSettings {
                shutdown_grace: Duration::from_secs(u64::from(config.shutdown_grace_secs)),
                ..ServerSettings::default()
            },
        })
    }

    /// The bound port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `stop` is cancelled or the process gets Ctrl-C/SIGTERM, then drains: readiness answers 503 at
    /// once, no connection is accepted any more, event streams end, in-flight requests get `SHUTDOWN_GRACE_SECS` to
    /// finish, and background jobs stop.
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run_until_stopped(self, stop: CancellationToken) -> anyhow::Result<()> {
        // The worker stops claiming as soon as the drain starts, and winds down alongside the requests.
        let jobs_stop = stop.child_token();
        let jobs: Option<JoinHandle<()>> = self
            .run_worker
            .then(|| tokio::spawn(worker::from_config(&self.backends, &self.config).run(jobs_stop.clone())));
        tokio::spawn(crate::gauges::run(self.backends.storage.clone(), self.max_connections, stop.child_token()));
        tokio::spawn(crate::revocations::run(self.backends.deps.clone(), stop.child_token()));
        // The hub closes its streams as soon as the drain starts (whatever started it), so that they end within the
        // grace period; its token is not a child of `stop`, so that this path is the one a test exercises too.
        let live_stop = CancellationToken::new();
        tokio::spawn(crate::live::run(
            Arc::clone(&self.state.live),
            Arc::clone(&self.backends.feed_signal),
            Arc::clone(&self.backends.deps.clock),
            live_stop.clone(),
        ));
        tracing::info!(address = %self.listener.local_addr()?, "serving");
        let health = Arc::clone(&self.state.health);
        let grace = self.server.shutdown_grace;
        let signal = stop.clone();
        let live_stop_after = live_stop.clone();
        let shutdown = async move {
            tokio::select! {
                () = signal.cancelled() => tracing::info!(grace_secs = grace.as_secs(), "shutdown requested; draining"),
                () = shutdown_signal() => tracing::info!(grace_secs = grace.as_secs(), "shutdown signal received; draining"),
            }
            health.start_draining();
            jobs_stop.cancel();
            live_stop.cancel();
        };
        let drained = serve(self.listener, router(self.state), self.server, shutdown).await;
        stop.cancel();
        live_stop_after.cancel();
        if let Some(jobs) = jobs {
            let _ = jobs.await;
        }
        match drained {
            Drained::Clean => tracing::info!("drain finished: every request completed; stopped"),
            Drained::Forced(open) => {
                tracing::warn!(
                    open,
                    "drain finished: the grace period ran out and open connections were closed; stopped"
                );
            }
        }
        Ok(())
    }
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
