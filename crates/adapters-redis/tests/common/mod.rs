//! Helpers shared by the integration tests: a unique key namespace per test, cleaned up on drop, and a TCP proxy.
#![allow(dead_code)] // each test binary uses a different subset

#[allow(unused_imports)] // only the fault tests use the proxy
pub use taskflow_adapters_redis::testing as proxy;

use std::time::Duration;

use taskflow_adapters_redis::redis::{self, Commands};
use taskflow_adapters_redis::{RedisClient, RedisSettings};

/// The shared test server (never flushed: tests only touch their own prefix).
pub use taskflow_adapters_redis::testing::redis_url;

/// A unique key prefix; every key under it is deleted when this is dropped, even after a failed assertion.
#[derive(Debug)]
pub struct Namespace {
    pub prefix: String,
}

impl Namespace {
    pub fn new() -> Self {
        Self { prefix: format!("test:{}", uuid::Uuid::new_v4()) }
    }

    /// Settings for the shared server under this namespace.
    pub fn settings(&self) -> RedisSettings {
        RedisSettings::new(redis_url()).with_key_prefix(self.prefix.clone())
    }

    /// A client on the shared server under this namespace.
    pub fn client(&self) -> RedisClient {
        RedisClient::connect(&self.settings()).expect("valid settings")
    }

    /// Every key under this namespace, read directly (not through the adapter).
    pub fn keys(&self) -> Vec<String> {
        let mut conn = direct_connection();
        let keys: Result<Vec<String>, _> = conn.scan_match(format!("{}:*", self.prefix)).expect("SCAN").collect();
        keys.expect("SCAN")
    }

    /// The remaining time to live of one key, read directly.
    pub fn pttl(&self, key: &str) -> i64 {
        direct_connection().pttl(key).expect("PTTL")
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let keys = self.keys();
        if !keys.is_empty() {
            let _: Result<i64, _> = direct_connection().del(keys);
        }
    }
}

fn direct_connection() -> redis::Connection {
    let client = redis::Client::open(redis_url()).expect("valid URL");
    client.get_connection_with_timeout(Duration::from_secs(2)).expect("the test Redis is reachable")
}
