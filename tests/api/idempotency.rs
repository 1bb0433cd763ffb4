//! `Idempotency-Key` on `POST /tasks` and `POST /tasks/batch`.

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Backend, spawn_app, text};

async fn a_retry_with_the_same_key_replays_the_first_response_without_acting_again(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let key = format!("create-{}", Uuid::new_v4());
    let body = json!({"title": "once only"});
    let post = || app.call(Method::POST, "/tasks").signed_in(&ann).header("idempotency-key", &key).json(&body);

    // Act
    let first = post().expect(201).await;
    let retry = post().expect(201).await;

    // Assert
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json(), first.json(), "the same body");
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("etag"), first.header("etag"));
    assert_eq!(app.get_tasks(&ann, "", 200).await.json()["meta"]["total"], 1, "no second task");
}
on_both_backends!(a_retry_with_the_same_key_replays_the_first_response_without_acting_again);

async fn the_same_key_with_another_body_is_422(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let key = Uuid::new_v4().to_string();
    let post = |title: &str| {
        app.call(Method::POST, "/tasks").signed_in(&ann).header("idempotency-key", &key).json(&json!({"title": title}))
    };
    post("first").expect(201).await;

    // Act
    post("second").expect(422).await;

    // Assert
    assert_eq!(app.get_tasks(&ann, "", 200).await.json()["meta"]["total"], 1);
}
on_both_backends!(the_same_key_with_another_body_is_422);

async fn keys_belong_to_their_user(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;
    let key = Uuid::new_v4().to_string();
    let body = json!({"title": "same key, two users"});
    let anns =
        app.call(Method::POST, "/tasks").signed_in(&ann).header("idempotency-key", &key).json(&body).expect(201).await;

    // Act
    let bobs =
        app.call(Method::POST, "/tasks").signed_in(&bob).header("idempotency-key", &key).json(&body).expect(201).await;

    // Assert
    assert_eq!(bobs.header("idempotent-replayed"), None, "bob's request is not a replay of ann's");
    assert_eq!(bobs.json()["userId"], json!(bob.id));
    assert_ne!(bobs.json()["id"], anns.json()["id"]);
}
on_both_backends!(keys_belong_to_their_user);

async fn a_batch_retry_is_replayed_too(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let id = app.create_task_titled(&ann, "complete me once").await;
    let key = Uuid::new_v4().to_string();
    let body = json!({"tasks": [id], "action": "complete"});
    let post = || app.call(Method::POST, "/tasks/batch").signed_in(&ann).header("idempotency-key", &key).json(&body);
    let first = post().expect(200).await;

    // Act
    let retry = post().expect(200).await;

    // Assert
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json(), first.json());
    assert_eq!(app.get_task(&ann, &text(&first.json()["succeeded"][0]), 200).await.json()["version"], 2);
    // A key of 256 characters is not a key.
    let too_long = "k".repeat(256);
    app.call(Method::POST, "/tasks")
        .signed_in(&ann)
        .header("idempotency-key", &too_long)
        .json(&json!({"title": "t"}))
        .expect(400)
        .await;
}
on_both_backends!(a_batch_retry_is_replayed_too);
