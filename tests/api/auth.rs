//! `/auth`: register, login, refresh rotation and reuse detection, logout, me.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestUser, spawn_app, spawn_app_with, text};

fn unique_email() -> String {
    format!("ann-{}@example.com", Uuid::new_v4().simple())
}

/// Checks the `AuthResponse` shape of API.md; returns its user.
fn assert_auth_response(auth: &Value) -> &Value {
    assert!(auth["accessToken"].as_str().is_some_and(|t| !t.is_empty()), "no accessToken: {auth}");
    // At least 256 bits of randomness: 43 characters of base64url, or 64 of hex.
    assert!(auth["refreshToken"].as_str().is_some_and(|t| t.len() >= 43), "refreshToken too short: {auth}");
    assert_eq!(auth["tokenType"], "Bearer");
    assert_eq!(auth["expiresIn"], 900, "expiresIn must equal ACCESS_TOKEN_TTL_SECS");
    let user = &auth["user"];
    let members: Vec<&str> = user.as_object().expect("user is an object").keys().map(String::as_str).collect();
    let mut sorted = members.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["createdAt", "email", "id", "name", "role", "updatedAt"], "User members");
    assert!(Uuid::parse_str(&text(&user["id"])).is_ok());
    user
}

async fn register_returns_201_with_tokens_and_a_user_whose_email_is_trimmed_and_lower_cased(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let email = unique_email();
    let presented = format!("  {}  ", email.to_uppercase());

    // Act
    let answer =
        app.post_register(&json!({"email": presented, "password": "long enough", "name": "  Ann  "}), 201).await;

    // Assert
    let auth = answer.json();
    let user = assert_auth_response(&auth);
    assert_eq!(user["email"], json!(email));
    assert_eq!(user["name"], "Ann");
    assert_eq!(user["role"], "user");
    assert!(!answer.text.contains("long enough") && !answer.text.contains("$argon2"), "a password leaked");
    let me = app.get_me(&text(&auth["accessToken"]), 200).await.json();
    assert_eq!(me, *user, "the new access token works at once");
}
on_both_backends!(register_returns_201_with_tokens_and_a_user_whose_email_is_trimmed_and_lower_cased);

async fn register_refuses_a_role_member_so_nobody_registers_as_admin(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let email = unique_email();

    // Act
    let answer = app
        .post_register(&json!({"email": email, "password": "long enough", "name": "Eve", "role": "admin"}), 400)
        .await;

    // Assert
    let fields: Vec<Value> = answer.json()["errors"].as_array().cloned().unwrap_or_default();
    assert!(fields.iter().any(|e| e["field"] == "role"), "the unknown member is named: {}", answer.text);
    // Nothing was created: the same email registers fine afterwards, as a user.
    let auth = app.post_register(&json!({"email": email, "password": "long enough", "name": "Eve"}), 201).await;
    assert_eq!(auth.json()["user"]["role"], "user");
}
on_both_backends!(register_refuses_a_role_member_so_nobody_registers_as_admin);

async fn register_returns_409_for_an_email_taken_in_any_case(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let email = unique_email();
    app.post_register(&json!({"email": email, "password": "long enough", "name": "Ann"}), 201).await;

    // Act + Assert
    app.post_register(&json!({"email": email.to_uppercase(), "password": "other password", "name": "Bob"}), 409).await;
}
on_both_backends!(register_returns_409_for_an_email_taken_in_any_case);

async fn register_returns_400_naming_every_invalid_field(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let long_local = "a".repeat(250);
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("empty email", json!({"email": "", "password": "long enough", "name": "Ann"}), vec!["email"]),
        (
            "email without @",
            json!({"email": "ann.example.com", "password": "long enough", "name": "Ann"}),
            vec!["email"],
        ),
        (
            "email of 255 characters",
            json!({"email": format!("{long_local}@x.io"), "password": "long enough", "name": "A"}),
            vec!["email"],
        ),
        (
            "password of 7 characters",
            json!({"email": unique_email(), "password": "1234567", "name": "Ann"}),
            vec!["password"],
        ),
        (
            "password of 129 characters",
            json!({"email": unique_email(), "password": "p".repeat(129), "name": "Ann"}),
            vec!["password"],
        ),
        ("blank name", json!({"email": unique_email(), "password": "long enough", "name": "   "}), vec!["name"]),
        (
            "name of 101 characters",
            json!({"email": unique_email(), "password": "long enough", "name": "n".repeat(101)}),
            vec!["name"],
        ),
        (
            "name with a control character",
            json!({"email": unique_email(), "password": "long enough", "name": "A\u{7}b"}),
            vec!["name"],
        ),
        (
            "everything wrong at once",
            json!({"email": "nope", "password": "short", "name": ""}),
            vec!["email", "password", "name"],
        ),
        ("missing password", json!({"email": unique_email(), "name": "Ann"}), vec!["password"]),
    ];

    for (description, body, expected_fields) in cases {
        // Act
        let answer = app.post_register(&body, 400).await;

        // Assert
        let errors = answer.json()["errors"].as_array().cloned().unwrap_or_default();
        let fields: Vec<String> = errors.iter().map(|e| text(&e["field"])).collect();
        for field in expected_fields {
            assert!(fields.iter().any(|f| f == field), "{description}: `{field}` not in errors {fields:?}");
        }
    }
}
on_both_backends!(register_returns_400_naming_every_invalid_field);

async fn register_accepts_values_at_their_limits(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    // 64 + 1 + 189: the longest local part, and a domain of labels within 63 characters.
    let email = format!("{}@{}.{}.{}.example.com", "a".repeat(64), "b".repeat(60), "c".repeat(60), "d".repeat(55));
    assert_eq!(email.len(), 254);
    let cases = [
        ("email of 254 characters", json!({"email": email, "password": "p".repeat(8), "name": "n"})),
        ("password of 128 characters", json!({"email": unique_email(), "password": "p".repeat(128), "name": "n"})),
        (
            "name of 100 characters",
            json!({"email": unique_email(), "password": "long enough", "name": "ñ".repeat(100)}),
        ),
    ];

    for (description, body) in cases {
        // Act
        let answer = app.call(reqwest::Method::POST, "/auth/register").json(&body).expect(201).await;

        // Assert
        assert_eq!(answer.json()["user"]["email"], body["email"], "{description}");
    }
}
on_both_backends!(register_accepts_values_at_their_limits);

async fn changing_an_email_to_a_taken_one_is_409(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;

    // Act
    app.patch_user(&bob, &bob.id, &json!({"email": ann.email.to_uppercase()}), 409).await;

    // Assert
    assert_eq!(app.get_me(&bob.access_token, 200).await.json()["email"], json!(bob.email));
    app.post_login(&ann.email, &ann.password, 200).await;
}
on_both_backends!(changing_an_email_to_a_taken_one_is_409);

async fn login_returns_200_with_a_new_session(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;

    // Act
    let auth = app.post_login(&ann.email.to_uppercase(), &ann.password, 200).await.json();

    // Assert
    let user = assert_auth_response(&auth);
    assert_eq!(user["id"], json!(ann.id));
    assert_ne!(auth["refreshToken"], json!(ann.refresh_token), "a login starts a new family");
}
on_both_backends!(login_returns_200_with_a_new_session);

async fn login_answers_an_unknown_email_and_a_wrong_password_identically(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;

    // Act
    let wrong_password = app.post_login(&ann.email, "not her password", 401).await;
    let unknown_email = app.post_login(&unique_email(), "not her password", 401).await;

    // Assert
    let without_request_id = |mut body: Value| {
        body.as_object_mut().expect("a problem object").remove("requestId");
        body
    };
    assert_eq!(without_request_id(wrong_password.json()), without_request_id(unknown_email.json()));
    for answer in [&wrong_password, &unknown_email] {
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    }
}
on_both_backends!(login_answers_an_unknown_email_and_a_wrong_password_identically);

async fn refresh_rotates_the_refresh_token_and_consumes_the_old_one(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;

    // Act
    let rotated = app.post_refresh(&ann.refresh_token, 200).await.json();

    // Assert
    assert_auth_response(&rotated);
    assert_ne!(rotated["refreshToken"], json!(ann.refresh_token));
    app.get_me(&text(&rotated["accessToken"]), 200).await;
    app.post_refresh(&text(&rotated["refreshToken"]), 200).await;
}
on_both_backends!(refresh_rotates_the_refresh_token_and_consumes_the_old_one);

async fn reusing_a_consumed_refresh_token_revokes_its_family_but_not_other_logins(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let other_login = app.login_again(&ann).await;
    let newest = text(&app.post_refresh(&ann.refresh_token, 200).await.json()["refreshToken"]);

    // Act
    let reuse = app.post_refresh(&ann.refresh_token, 401).await;

    // Assert
    assert_eq!(reuse.header("www-authenticate"), Some("Bearer"));
    assert!(!reuse.text.contains(&ann.refresh_token), "the 401 echoes the token");
    app.post_refresh(&newest, 401).await;
    app.post_refresh(&other_login.refresh_token, 200).await;
}
on_both_backends!(reusing_a_consumed_refresh_token_revokes_its_family_but_not_other_logins);

async fn ten_parallel_refreshes_of_one_token_let_at_most_one_win_and_revoke_the_family(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let other_login = app.login_again(&ann).await;

    // Act
    let attempts = (0..10).map(|_| {
        app.client
            .post(format!("{}/auth/refresh", app.address))
            .json(&json!({"refreshToken": ann.refresh_token}))
            .send()
    });
    let mut winners = Vec::new();
    for response in futures::future::join_all(attempts).await {
        let response = response.expect("the request is served");
        match response.status().as_u16() {
            200 => winners.push(response.json::<Value>().await.expect("an AuthResponse")),
            401 => {}
            other => panic!("a racing refresh got {other}"),
        }
    }

    // Assert
    assert!(winners.len() <= 1, "{} parallel refreshes of one token succeeded", winners.len());
    // Every loser presented a consumed token, which revokes the family: the winner's token is dead too.
    for winner in &winners {
        app.post_refresh(&text(&winner["refreshToken"]), 401).await;
    }
    app.post_refresh(&other_login.refresh_token, 200).await;
}
on_both_backends!(ten_parallel_refreshes_of_one_token_let_at_most_one_win_and_revoke_the_family);

async fn logout_returns_204_and_revokes_the_family_only(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let other_login = app.login_again(&ann).await;
    let rotated = text(&app.post_refresh(&ann.refresh_token, 200).await.json()["refreshToken"]);

    // Act
    app.post_logout(&rotated, 204).await;

    // Assert
    app.post_refresh(&rotated, 401).await;
    app.post_refresh(&other_login.refresh_token, 200).await;
}
on_both_backends!(logout_returns_204_and_revokes_the_family_only);

async fn me_returns_the_caller_and_401_without_valid_credentials(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann: TestUser = app.register_user().await;
    let mut tampered = ann.access_token.clone();
    let last = tampered.pop().expect("a token");
    tampered.push(if last == 'A' { 'B' } else { 'A' });

    // Act
    let me = app.get_me(&ann.access_token, 200).await.json();

    // Assert
    assert_eq!(me["id"], json!(ann.id));
    assert_eq!(me["email"], json!(ann.email));
    for (description, token) in
        [("tampered token", tampered.as_str()), ("garbage", "not-a-token"), ("refresh token", &ann.refresh_token)]
    {
        let answer = app.get_me(token, 401).await;
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"), "{description}");
        assert!(!answer.text.contains(token), "{description}: the 401 echoes the token");
    }
    let anonymous = app.call(reqwest::Method::GET, "/auth/me").expect(401).await;
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
}
on_both_backends!(me_returns_the_caller_and_401_without_valid_credentials);

async fn access_tokens_lapse_at_their_expiry_and_expires_in_follows_the_configuration(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |c| c.access_token_ttl_secs = 1).await;
    let auth = app
        .post_register(&json!({"email": unique_email(), "password": "long enough", "name": "Brief"}), 201)
        .await
        .json();
    assert_eq!(auth["expiresIn"], 1, "expiresIn equals ACCESS_TOKEN_TTL_SECS");
    let token = text(&auth["accessToken"]);
    app.get_me(&token, 200).await;

    // Act
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    // Assert
    let expired = app.get_me(&token, 401).await;
    assert_eq!(expired.header("www-authenticate"), Some("Bearer"));
    let refreshed = app.post_refresh(&text(&auth["refreshToken"]), 200).await.json();
    app.get_me(&text(&refreshed["accessToken"]), 200).await;
}
on_both_backends!(access_tokens_lapse_at_their_expiry_and_expires_in_follows_the_configuration);
