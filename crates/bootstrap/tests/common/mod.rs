//! Starting real `taskflow` instances that share one fresh PostgreSQL database and one Redis key prefix.

#![allow(dead_code)] // each test binary uses a part

use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use taskflow::Config;
use taskflow_adapters_postgres::testing::{DropGuard, fresh_database};
use taskflow_adapters_redis::redis::AsyncCommands as _;
use tokio_util::sync::CancellationToken;

/// A running instance.
pub struct Instance {
    pub base: String,
    stop: CancellationToken,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A deployment: one database, one Redis namespace, one token key, any number of instances.
pub struct Deployment {
    pub config: Config,
    pub client: Client,
    _db: DropGuard,
}

impl Deployment {
    /// A fresh database and a fresh Redis namespace at `redis_url` (a proxy in fault tests).
    pub async fn new(redis_url: &str, per_minute: u32) -> Self {
        let (db_url, db) = fresh_database().await;
        let config = Config {
            port: 0,
            database_url: Some(db_url.into()),
            redis_url: Some(redis_url.to_owned().into()),
            redis_key_prefix: format!("test:{}", uuid::Uuid::new_v4()),
            token_key: Some("7".repeat(64).into()),
            rate_limit_per_minute: per_minute,
            rate_limit_auth_per_minute: 1000,
            worker: false,
            ..Config::default()
        };
        Self { config, client: Client::new(), _db: db }
    }

    /// Starts one more instance of the deployment.
    pub async fn start(&self) -> Instance {
        let app = taskflow::Application::build(&self.config).await.expect("the instance builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let stop = CancellationToken::new();
        tokio::spawn(app.run_until_stopped(stop.clone()));
        Instance { base, stop }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Response {
        req.send().await.expect("the instance answers")
    }

    /// Registers a user on `on` and returns the parsed AuthResponse.
    pub async fn register(&self, on: &Instance, email: &str) -> Value {
        let body = json!({"email": email, "password": "correct horse", "name": "Test"});
        let r = self.send(self.client.post(format!("{}/auth/register", on.base)).json(&body)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json().await.unwrap()
    }

    /// Every key of this deployment's Redis namespace.
    pub async fn redis_keys(&self, pattern: &str) -> Vec<String> {
        let client =
            taskflow_adapters_redis::redis::Client::open(taskflow_adapters_redis::testing::redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        conn.keys(format!("{}:{pattern}", self.config.redis_key_prefix)).await.unwrap()
    }

    /// Deletes every key of this deployment's Redis namespace.
    pub async fn clean_redis(&self) {
        let keys = self.redis_keys("*").await;
        if !keys.is_empty() {
            let client =
                taskflow_adapters_redis::redis::Client::open(taskflow_adapters_redis::testing::redis_url()).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let _: () = conn.del(keys).await.unwrap();
        }
    }
}

pub fn bearer(auth: &Value) -> String {
    format!("Bearer {}", auth["accessToken"].as_str().unwrap())
}

/// Waits out the Redis circuit breaker's cool-down (5 s by default) after a restore.
pub async fn wait_for_breaker() {
    tokio::time::sleep(Duration::from_millis(5500)).await;
}
