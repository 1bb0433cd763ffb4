//! `spawn_app` and `TestApp`: the real `taskflow` application on port 0, on either backend, driven over HTTP.
//!
//! Helpers take the expected status and assert it themselves; every error answer they see is also checked
//! against the rules every error must follow (problem+json, `status`, `requestId`, nothing internal).

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use taskflow::config::Secret;
use taskflow::{Application, Config};
use taskflow_adapters_postgres::testing::{DropGuard, fresh_database};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Where the application under test keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// No `DATABASE_URL`, no `REDIS_URL`: the embedded mode, with the demo users created at start.
    Memory,
    /// A fresh PostgreSQL database per test, and Redis (under a key prefix of its own) for rate limits.
    Postgres,
}

/// The Redis of the PostgreSQL backend.
const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The token key of every test server (64 hex characters).
const TOKEN_KEY: &str = "6a1f0e3c9b8d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29";

/// The demo admin of the contract.
pub const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "admin123";

/// Strings that no error body may contain: internals, SQL, paths, hashes.
pub const LEAKS: [&str; 10] = [
    "sqlx",
    "sea_orm",
    "panicked",
    "/src/",
    "argon2",
    "$argon2",
    "SELECT",
    "stack backtrace",
    "RUST_BACKTRACE",
    ".rs:",
];

fn secret(value: &str) -> Secret {
    serde_json::from_value(json!(value)).expect("a Secret is a transparent string")
}

/// A running application; stopped when dropped (and its database dropped with it).
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The backend it runs on.
    pub backend: Backend,
    /// The HTTP client (follows redirects, keeps connections).
    pub client: reqwest::Client,
    config: Config,
    stop: CancellationToken,
    // Declared last: dropped after the server is told to stop.
    _database: Option<DropGuard>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
        if self.config.redis_url.is_some() {
            delete_redis_keys(&format!("{}:*", self.config.redis_key_prefix));
        }
    }
}

/// Deletes the keys matching `pattern` (this test's prefix only; other tests and programs share the server).
fn delete_redis_keys(pattern: &str) {
    use deadpool_redis::redis::{Client, Commands as _};
    let Ok(mut conn) = Client::open(REDIS_URL).and_then(|c| c.get_connection()) else { return };
    let keys: Vec<String> = match conn.scan_match::<_, String>(pattern) {
        Ok(iter) => iter.filter_map(Result::ok).collect(),
        Err(_) => return,
    };
    for chunk in keys.chunks(500) {
        let _: Result<(), _> = conn.del(chunk);
    }
}

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl TestUser {
    fn from_auth(auth: &Value, password: &str) -> Self {
        Self {
            id: text(&auth["user"]["id"]),
            email: text(&auth["user"]["email"]),
            password: password.to_owned(),
            access_token: text(&auth["accessToken"]),
            refresh_token: text(&auth["refreshToken"]),
        }
    }
}

/// A string member of a JSON value.
pub fn text(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}")).to_owned()
}

/// The configuration of a test server on `backend`: port 0, no worker, generous rate limits.
async fn test_config(backend: Backend) -> (Config, Option<DropGuard>) {
    let mut config = Config {
        port: 0,
        worker: false,
        token_key: Some(secret(TOKEN_KEY)),
        rate_limit_per_minute: 100_000,
        rate_limit_auth_per_minute: 100_000,
        database_max_connections: 10,
        ..Config::default()
    };
    let database = match backend {
        Backend::Memory => None,
        Backend::Postgres => {
            let (url, guard) = fresh_database().await;
            config.database_url = Some(secret(&url));
            config.redis_url = Some(secret(REDIS_URL));
            config.redis_key_prefix = format!("taskflow-e2e-{}", Uuid::new_v4().simple());
            Some(guard)
        }
    };
    (config, database)
}

/// Starts the application on `backend`.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts the application on `backend` with `adjust` applied to its configuration.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let (mut config, database) = test_config(backend).await;
    adjust(&mut config);
    let app = Application::build(&config).await.expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let stop = CancellationToken::new();
    tokio::spawn(app.run_until_stopped(stop.clone()));
    let client = test_client();
    TestApp { address, backend, client, config, stop, _database: database }
}

/// A second instance of `app`'s application on the same database and Redis prefix (PostgreSQL only), as a
/// second process of a deployment would be. Drop it before `app`: `app` owns the database.
pub async fn spawn_second_instance(app: &TestApp) -> TestApp {
    spawn_second_instance_with(app, |_| {}).await
}

/// [`spawn_second_instance`] with `adjust` applied to its configuration (its own worker settings, say).
pub async fn spawn_second_instance_with(app: &TestApp, adjust: impl FnOnce(&mut Config)) -> TestApp {
    assert_eq!(app.backend, Backend::Postgres, "instances share state only through PostgreSQL");
    let mut config = app.config.clone();
    adjust(&mut config);
    let second = Application::build(&config).await.expect("the second instance builds");
    let address = format!("http://127.0.0.1:{}", second.port());
    let stop = CancellationToken::new();
    tokio::spawn(second.run_until_stopped(stop.clone()));
    let client = test_client();
    TestApp { address, backend: app.backend, client, config, stop, _database: None }
}

/// The HTTP client of a test. The server closes a keep-alive connection that stays idle for its 10 s header
/// deadline; a client that reused such a connection at that very moment would see its request fail. Giving idle
/// connections up after 5 s leaves that race to real clients, not to tests that pause between requests.
fn test_client() -> reqwest::Client {
    reqwest::Client::builder().pool_idle_timeout(std::time::Duration::from_secs(5)).build().expect("an HTTP client")
}

/// An answer of the server, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("the body is not JSON ({e}): {}", self.text))
    }

    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the rules every error answer follows (API.md "Details that clients rely on").
    pub fn assert_is_problem(&self) {
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/problem+json"),
            "an error answer ({}) is {content_type:?}, not application/problem+json: {}",
            self.status,
            self.text
        );
        let body = self.json();
        assert_eq!(body["status"], json!(self.status), "`status` differs from the HTTP status: {body}");
        let request_id = self.header("x-request-id").expect("every answer carries X-Request-Id");
        assert_eq!(body["requestId"], json!(request_id), "`requestId` differs from X-Request-Id: {body}");
        for member in ["type", "title", "detail"] {
            assert!(body[member].is_string(), "a problem lacks `{member}`: {body}");
        }
        for leak in LEAKS {
            assert!(!self.text.contains(leak), "an error body contains {leak:?}: {}", self.text);
        }
    }
}

/// A request being prepared; [`Call::expect`] sends it and asserts its status.
pub struct Call {
    label: String,
    builder: reqwest::RequestBuilder,
}

impl Call {
    /// Signed in as `user` (their access token).
    pub fn signed_in(self, user: &TestUser) -> Self {
        self.bearer(&user.access_token)
    }

    /// With `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        Self { builder: self.builder.bearer_auth(token), ..self }
    }

    /// With a JSON body (and `Content-Type: application/json`).
    pub fn json(self, body: &Value) -> Self {
        Self { builder: self.builder.json(body), ..self }
    }

    /// With a header.
    pub fn header(self, name: &str, value: &str) -> Self {
        Self { builder: self.builder.header(name, value), ..self }
    }

    /// With a raw body and no content type.
    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        Self { builder: self.builder.body(body), ..self }
    }

    /// Sends, reads the whole answer and asserts its status (and, for errors, the problem rules).
    pub async fn expect(self, expected: u16) -> Answer {
        let response = self.builder.send().await.unwrap_or_else(|e| panic!("{}: request failed: {e}", self.label));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_else(|e| panic!("{}: reading the body failed: {e}", self.label));
        let answer = Answer { status, headers, text };
        assert_eq!(status, expected, "{}: expected {expected}, got {status}: {}", self.label, answer.text);
        if status >= 400 {
            answer.assert_is_problem();
        }
        answer
    }
}

impl TestApp {
    /// Tells the application to stop, as SIGTERM would: it drains and exits (the test's runtime keeps going).
    pub fn shutdown(&self) {
        self.stop.cancel();
    }

    /// The database URL (PostgreSQL only).
    pub fn database_url(&self) -> Option<String> {
        self.config.database_url.as_ref().map(|url| url.expose().to_owned())
    }

    /// A request to `path` (which may carry a query).
    pub fn call(&self, method: Method, path: &str) -> Call {
        Call {
            label: format!("{method} {path}"),
            builder: self.client.request(method, format!("{}{path}", self.address)),
        }
    }

    /// Creates the demo users in the database if this backend does not have them (only the embedded mode
    /// creates them at start), then logs in as the demo admin.
    pub async fn admin(&self) -> TestUser {
        if self.backend == Backend::Postgres {
            let backends = taskflow::backends::build(&self.config).await.expect("backends for seeding");
            taskflow::seed::ensure_demo_users(&backends.deps).await.expect("the demo users");
        }
        let auth = self.post_login(ADMIN_EMAIL, ADMIN_PASSWORD, 200).await.json();
        TestUser::from_auth(&auth, ADMIN_PASSWORD)
    }

    /// Registers a new user with a unique email and returns them logged in.
    pub async fn register_user(&self) -> TestUser {
        let password = "correct horse battery";
        let email = format!("user-{}@example.com", Uuid::new_v4().simple());
        let auth = self.post_register(&json!({"email": email, "password": password, "name": "Test User"}), 201).await;
        TestUser::from_auth(&auth.json(), password)
    }

    /// Logs `user` in again: a new refresh-token family.
    pub async fn login_again(&self, user: &TestUser) -> TestUser {
        let auth = self.post_login(&user.email, &user.password, 200).await.json();
        TestUser::from_auth(&auth, &user.password)
    }

    // ---- /auth

    pub async fn post_register(&self, body: &Value, expected: u16) -> Answer {
        self.call(Method::POST, "/auth/register").json(body).expect(expected).await
    }

    pub async fn post_login(&self, email: &str, password: &str, expected: u16) -> Answer {
        self.call(Method::POST, "/auth/login")
            .json(&json!({"email": email, "password": password}))
            .expect(expected)
            .await
    }

    pub async fn post_refresh(&self, refresh_token: &str, expected: u16) -> Answer {
        self.call(Method::POST, "/auth/refresh").json(&json!({"refreshToken": refresh_token})).expect(expected).await
    }

    pub async fn post_logout(&self, refresh_token: &str, expected: u16) -> Answer {
        self.call(Method::POST, "/auth/logout").json(&json!({"refreshToken": refresh_token})).expect(expected).await
    }

    pub async fn get_me(&self, access_token: &str, expected: u16) -> Answer {
        self.call(Method::GET, "/auth/me").bearer(access_token).expect(expected).await
    }

    // ---- /users

    pub async fn get_users(&self, user: &TestUser, query: &str, expected: u16) -> Answer {
        self.call(Method::GET, &format!("/users{query}")).signed_in(user).expect(expected).await
    }

    pub async fn get_user(&self, user: &TestUser, id: &str, expected: u16) -> Answer {
        self.call(Method::GET, &format!("/users/{id}")).signed_in(user).expect(expected).await
    }

    pub async fn patch_user(&self, user: &TestUser, id: &str, body: &Value, expected: u16) -> Answer {
        self.call(Method::PATCH, &format!("/users/{id}")).signed_in(user).json(body).expect(expected).await
    }

    pub async fn delete_user(&self, user: &TestUser, id: &str, expected: u16) -> Answer {
        self.call(Method::DELETE, &format!("/users/{id}")).signed_in(user).expect(expected).await
    }

    // ---- /tasks

    pub async fn post_task(&self, user: &TestUser, body: &Value, expected: u16) -> Answer {
        self.call(Method::POST, "/tasks").signed_in(user).json(body).expect(expected).await
    }

    /// Creates a task for `user` and returns it.
    pub async fn create_task(&self, user: &TestUser, body: &Value) -> Value {
        self.post_task(user, body, 201).await.json()
    }

    /// Creates a task titled `title` for `user` and returns its id.
    pub async fn create_task_titled(&self, user: &TestUser, title: &str) -> String {
        text(&self.create_task(user, &json!({"title": title})).await["id"])
    }

    pub async fn get_task(&self, user: &TestUser, id: &str, expected: u16) -> Answer {
        self.call(Method::GET, &format!("/tasks/{id}")).signed_in(user).expect(expected).await
    }

    pub async fn patch_task(&self, user: &TestUser, id: &str, body: &Value, expected: u16) -> Answer {
        self.call(Method::PATCH, &format!("/tasks/{id}")).signed_in(user).json(body).expect(expected).await
    }

    pub async fn delete_task(&self, user: &TestUser, id: &str, expected: u16) -> Answer {
        self.call(Method::DELETE, &format!("/tasks/{id}")).signed_in(user).expect(expected).await
    }

    /// `GET /tasks` with `query` (`""` or `"?status=PENDING&..."`).
    pub async fn get_tasks(&self, user: &TestUser, query: &str, expected: u16) -> Answer {
        self.call(Method::GET, &format!("/tasks{query}")).signed_in(user).expect(expected).await
    }

    pub async fn get_stats(&self, user: &TestUser, query: &str, expected: u16) -> Answer {
        self.call(Method::GET, &format!("/tasks/stats{query}")).signed_in(user).expect(expected).await
    }

    pub async fn post_batch(&self, user: &TestUser, body: &Value, expected: u16) -> Answer {
        self.call(Method::POST, "/tasks/batch").signed_in(user).json(body).expect(expected).await
    }

    // ---- /webhooks

    pub async fn post_webhook(&self, user: &TestUser, body: &Value, expected: u16) -> Answer {
        self.call(Method::POST, "/webhooks").signed_in(user).json(body).expect(expected).await
    }

    /// Creates a webhook for `user` calling `url` on `events`; returns it with its secret.
    pub async fn create_webhook(&self, user: &TestUser, url: &str, events: &[&str]) -> Value {
        self.post_webhook(user, &json!({"url": url, "events": events}), 201).await.json()
    }

    pub async fn get_webhook(&self, user: &TestUser, id: &str, expected: u16) -> Answer {
        self.call(Method::GET, &format!("/webhooks/{id}")).signed_in(user).expect(expected).await
    }

    pub async fn delete_webhook(&self, user: &TestUser, id: &str, expected: u16) -> Answer {
        self.call(Method::DELETE, &format!("/webhooks/{id}")).signed_in(user).expect(expected).await
    }

    /// `GET /webhooks/{id}/deliveries` with `query` (`""` or `"?status=dead&..."`).
    pub async fn get_deliveries(&self, user: &TestUser, id: &str, query: &str, expected: u16) -> Answer {
        self.call(Method::GET, &format!("/webhooks/{id}/deliveries{query}")).signed_in(user).expect(expected).await
    }

    pub async fn retry_delivery(&self, user: &TestUser, id: &str, delivery: &str, expected: u16) -> Answer {
        self.call(Method::POST, &format!("/webhooks/{id}/deliveries/{delivery}/retry"))
            .signed_in(user)
            .expect(expected)
            .await
    }
}
