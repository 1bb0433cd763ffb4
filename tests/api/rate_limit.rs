//! Rate limits: per user (or IP) on the API, per IP on login, register and refresh, with the `RateLimit-*`
//! headers on every limited answer.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Answer, Backend, spawn_app_with};

fn number(answer: &Answer, name: &str) -> u64 {
    answer
        .header(name)
        .unwrap_or_else(|| panic!("no {name} on a {} answer", answer.status))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number"))
}

async fn the_sixth_request_in_a_minute_is_429_with_retry_after_and_headers_on_every_answer(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |c| c.rate_limit_per_minute = 5).await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;

    // Act
    let mut allowed = Vec::new();
    for _ in 0..5 {
        allowed.push(app.get_tasks(&ann, "", 200).await);
    }
    let limited = app.get_tasks(&ann, "", 429).await;

    // Assert
    for (i, answer) in allowed.iter().enumerate() {
        assert_eq!(number(answer, "ratelimit-limit"), 5);
        assert_eq!(number(answer, "ratelimit-remaining"), 4 - i as u64, "request {}", i + 1);
        assert!(answer.header("ratelimit-reset").is_some());
    }
    assert!(number(&limited, "retry-after") >= 1);
    assert_eq!(number(&limited, "ratelimit-remaining"), 0);
    assert_eq!(number(&limited, "ratelimit-limit"), 5);
    assert!(limited.header("ratelimit-reset").is_some());
    app.get_tasks(&bob, "", 200).await;
}
on_both_backends!(the_sixth_request_in_a_minute_is_429_with_retry_after_and_headers_on_every_answer);

async fn login_register_and_refresh_share_a_limit_per_client_ip(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |c| c.rate_limit_auth_per_minute = 3).await;
    let ann = app.register_user().await;
    app.post_login(&ann.email, "wrong password", 401).await;

    // Act
    let third = app.post_login(&ann.email, &ann.password, 200).await;
    let fourth = app.post_login(&ann.email, &ann.password, 429).await;

    // Assert
    assert_eq!(number(&third, "ratelimit-remaining"), 0);
    assert!(number(&fourth, "retry-after") >= 1);
    app.post_refresh(&ann.refresh_token, 429).await;
    // Without TRUST_PROXY, a claimed X-Forwarded-For does not buy a fresh bucket.
    app.call(Method::POST, "/auth/login")
        .header("x-forwarded-for", "203.0.113.7")
        .json(&json!({"email": ann.email, "password": ann.password}))
        .expect(429)
        .await;
    app.call(Method::POST, "/auth/register")
        .json(&json!({"email": "late@example.com", "password": "long enough", "name": "Late"}))
        .expect(429)
        .await;
    // Other routes have their own, per-user limit.
    app.get_me(&ann.access_token, 200).await;
}
on_both_backends!(login_register_and_refresh_share_a_limit_per_client_ip);
