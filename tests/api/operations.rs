//! Operations: health, metrics, the OpenAPI document, the documentation page, and concurrent load.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_app};

async fn liveness_and_readiness_report_every_check(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act
    let live = app.call(Method::GET, "/health/live").expect(200).await.json();
    let ready = app.call(Method::GET, "/health/ready").expect(200).await.json();

    // Assert
    assert_eq!(live, json!({"status": "ok"}));
    assert_eq!(ready["status"], "ok", "{ready}");
    for check in ["database", "redis"] {
        assert!(ready["checks"][check].is_object(), "checks.{check} missing: {ready}");
        assert_eq!(ready["checks"][check]["status"], "up", "{ready}");
    }
}
on_both_backends!(liveness_and_readiness_report_every_check);

async fn metrics_count_requests_by_route_template_with_latency_histograms(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let id = app.create_task_titled(&ann, "measured").await;
    app.get_task(&ann, &id, 200).await;

    // Act
    let metrics = app.call(Method::GET, "/metrics").expect(200).await.text;

    // Assert
    assert!(
        metrics.lines().any(|l| l.starts_with("http_requests_total{") && l.contains("route=\"/tasks/{id}\"")),
        "no http_requests_total for /tasks/{{id}}"
    );
    assert!(metrics.contains("http_request_duration_seconds_bucket{"), "no latency histogram");
    assert!(!metrics.contains(&id), "a raw task id is a label");
}
on_both_backends!(metrics_count_requests_by_route_template_with_latency_histograms);

async fn the_openapi_document_is_3_1_and_describes_every_route(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let routes = [
        ("/auth/register", "post"),
        ("/auth/login", "post"),
        ("/auth/refresh", "post"),
        ("/auth/logout", "post"),
        ("/auth/me", "get"),
        ("/users", "get"),
        ("/users/{id}", "get"),
        ("/users/{id}", "patch"),
        ("/users/{id}", "delete"),
        ("/tasks", "post"),
        ("/tasks", "get"),
        ("/tasks/{id}", "get"),
        ("/tasks/{id}", "patch"),
        ("/tasks/{id}", "delete"),
        ("/tasks/stats", "get"),
        ("/tasks/batch", "post"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
        ("/metrics", "get"),
    ];

    // Act
    let doc: Value = app.call(Method::GET, "/openapi.json").expect(200).await.json();

    // Assert
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "openapi is {}", doc["openapi"]);
    for (path, method) in routes {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} is not documented");
    }
}
on_both_backends!(the_openapi_document_is_3_1_and_describes_every_route);

/// The `src` of scripts and `href` of stylesheets in `html`.
fn assets(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (tag, attribute) in [("<script", "src=\""), ("<link", "href=\"")] {
        for piece in html.split(tag).skip(1) {
            let element = piece.split('>').next().unwrap_or_default();
            if tag == "<link" && !element.contains("stylesheet") {
                continue;
            }
            if let Some(rest) = element.split(attribute).nth(1) {
                found.push(rest.split('"').next().unwrap_or_default().to_owned());
            }
        }
    }
    found
}

async fn the_docs_page_loads_every_script_and_stylesheet_from_the_server_itself(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act
    let page = app.client.get(format!("{}/docs", app.address)).send().await.expect("the docs page");
    let page_url = page.url().clone();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");

    // Assert
    let assets = assets(&html);
    assert!(!assets.is_empty(), "no scripts or stylesheets in {html}");
    for asset in &assets {
        assert!(!asset.contains("//"), "{asset} is loaded from elsewhere");
        let url = page_url.join(asset).expect("a relative URL");
        let status = app.client.get(url.clone()).send().await.expect("an asset").status();
        assert_eq!(status.as_u16(), 200, "{url}");
    }
}
on_both_backends!(the_docs_page_loads_every_script_and_stylesheet_from_the_server_itself);

async fn twenty_simultaneous_requests_are_all_served(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let id = app.create_task_titled(&ann, "popular").await;

    // Act
    let requests = (0..20).map(|i| {
        let path = if i % 2 == 0 { format!("/tasks/{id}") } else { "/tasks?limit=5".to_owned() };
        app.client.get(format!("{}{path}", app.address)).bearer_auth(&ann.access_token).send()
    });
    let statuses: Vec<u16> =
        futures::future::join_all(requests).await.into_iter().map(|r| r.expect("served").status().as_u16()).collect();

    // Assert
    assert_eq!(statuses, vec![200; 20]);
}
on_both_backends!(twenty_simultaneous_requests_are_all_served);
