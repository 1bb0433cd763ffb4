//! `GET /tasks`: every filter, sorting, offset and keyset paging, and parameter validation.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, spawn_app, text};

/// The titles of a listing's `data`, in order.
fn titles(listing: &Value) -> Vec<String> {
    listing["data"].as_array().expect("data").iter().map(|t| text(&t["title"])).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Creates one task per body, all at once (so several share a creation instant and ties are exercised).
async fn create_all(app: &TestApp, user: &TestUser, bodies: Vec<Value>) -> Vec<Value> {
    futures::future::join_all(bodies.iter().map(|b| app.create_task(user, b))).await
}

async fn status_and_priority_filters_take_one_value_or_a_list(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    create_all(
        &app,
        &ann,
        vec![
            json!({"title": "pending low", "status": "PENDING", "priority": "LOW"}),
            json!({"title": "progress medium", "status": "IN_PROGRESS", "priority": "MEDIUM"}),
            json!({"title": "completed high", "status": "COMPLETED", "priority": "HIGH"}),
            json!({"title": "pending high", "status": "PENDING", "priority": "HIGH"}),
        ],
    )
    .await;
    let cases = [
        ("?status=PENDING", vec!["pending high", "pending low"]),
        ("?status=PENDING,IN_PROGRESS", vec!["pending high", "pending low", "progress medium"]),
        ("?priority=HIGH", vec!["completed high", "pending high"]),
        ("?priority=LOW,MEDIUM", vec!["pending low", "progress medium"]),
        ("?status=PENDING&priority=HIGH", vec!["pending high"]),
        ("?status=COMPLETED&priority=LOW", vec![]),
    ];

    for (query, expected) in cases {
        // Act
        let listing = app.get_tasks(&ann, query, 200).await.json();

        // Assert
        assert_eq!(sorted(titles(&listing)), expected, "{query}");
        assert_eq!(listing["meta"]["total"], expected.len(), "{query}: total");
    }
}
on_both_backends!(status_and_priority_filters_take_one_value_or_a_list);

async fn search_matches_title_or_description_case_insensitively_and_literally(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    create_all(
        &app,
        &ann,
        vec![
            json!({"title": "100% done"}),
            json!({"title": "1000 done"}),
            json!({"title": "snake_case"}),
            json!({"title": "snakeXcase"}),
            json!({"title": "back\\slash"}),
            json!({"title": "plain", "description": "a hidden NeEdLe inside"}),
        ],
    )
    .await;
    let cases = [
        ("?search=%25", vec!["100% done"]),
        ("?search=0%25%20d", vec!["100% done"]),
        ("?search=_", vec!["snake_case"]),
        ("?search=e_c", vec!["snake_case"]),
        ("?search=%5C", vec!["back\\slash"]),
        ("?search=needle", vec!["plain"]),
        ("?search=SNAKE", vec!["snakeXcase", "snake_case"]),
        ("?search=nothing%20like%20it", vec![]),
    ];

    for (query, expected) in cases {
        // Act
        let listing = app.get_tasks(&ann, query, 200).await.json();

        // Assert
        assert_eq!(sorted(titles(&listing)), expected, "{query}");
    }
}
on_both_backends!(search_matches_title_or_description_case_insensitively_and_literally);

async fn due_date_and_overdue_filters_never_match_undated_tasks(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    create_all(
        &app,
        &ann,
        vec![
            json!({"title": "late", "dueDate": "2020-01-01T00:00:00Z"}),
            json!({"title": "late but done", "dueDate": "2020-06-01T00:00:00Z", "status": "COMPLETED"}),
            json!({"title": "future", "dueDate": "2100-01-01T00:00:00Z"}),
            json!({"title": "undated"}),
        ],
    )
    .await;
    let cases = [
        ("?dueBefore=2050-01-01T00:00:00Z", vec!["late", "late but done"]),
        ("?dueAfter=2050-01-01T00:00:00Z", vec!["future"]),
        ("?dueAfter=2020-03-01T00:00:00%2B01:00&dueBefore=2050-01-01T00:00:00Z", vec!["late but done"]),
        ("?overdue=true", vec!["late"]),
        ("?overdue=false", vec!["future", "late but done", "undated"]),
    ];

    for (query, expected) in cases {
        // Act
        let listing = app.get_tasks(&ann, query, 200).await.json();

        // Assert
        assert_eq!(sorted(titles(&listing)), expected, "{query}");
    }
}
on_both_backends!(due_date_and_overdue_filters_never_match_undated_tasks);

async fn invalid_listing_parameters_are_400(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let cases = [
        ("unknown status", "?status=DONE"),
        ("one bad status in a list", "?status=PENDING,NOPE"),
        ("unknown priority", "?priority=URGENT"),
        ("overdue=yes", "?overdue=yes"),
        ("overdue=1", "?overdue=1"),
        ("dueBefore not RFC 3339", "?dueBefore=yesterday"),
        ("dueAfter a bare date", "?dueAfter=2026-01-01"),
        ("limit=0", "?limit=0"),
        ("limit=101", "?limit=101"),
        ("limit not a number", "?limit=ten"),
        ("page=0", "?page=0"),
        ("page=-1", "?page=-1"),
        ("sort=foo", "?sort=foo"),
        ("order=up", "?order=up"),
        ("userId not a UUID", "?userId=me"),
        ("search of 201 characters", &format!("?search={}", "s".repeat(201))),
        ("unknown parameter", "?colour=red"),
        ("a cursor that is not ours", "?cursor=bm90LW91cnM"),
        ("another bogus cursor", "?cursor=%7B%22id%22%3A1%7D"),
    ];

    for (description, query) in cases {
        // Act + Assert
        let answer = app.get_tasks(&ann, query, 400).await;
        assert!(answer.json()["detail"].is_string(), "{description}");
    }
}
on_both_backends!(invalid_listing_parameters_are_400);

async fn a_non_admin_naming_another_user_gets_403_while_an_admin_filters_by_owner(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let bob = app.register_user().await;
    let admin = app.admin().await;
    app.create_task_titled(&ann, "ann's").await;
    app.create_task_titled(&bob, "bob's").await;

    // Act + Assert
    app.get_tasks(&ann, &format!("?userId={}", bob.id), 403).await;
    assert_eq!(titles(&app.get_tasks(&ann, &format!("?userId={}", ann.id), 200).await.json()), ["ann's"]);
    assert_eq!(titles(&app.get_tasks(&ann, "", 200).await.json()), ["ann's"], "a user sees only their own");
    assert_eq!(titles(&app.get_tasks(&admin, &format!("?userId={}", bob.id), 200).await.json()), ["bob's"]);
    let everything = titles(&app.get_tasks(&admin, "", 200).await.json());
    assert!(everything.contains(&"ann's".to_owned()) && everything.contains(&"bob's".to_owned()));
}
on_both_backends!(a_non_admin_naming_another_user_gets_403_while_an_admin_filters_by_owner);

async fn sort_by_priority_orders_by_rank_not_alphabetically(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    create_all(
        &app,
        &ann,
        vec![
            json!({"title": "m", "priority": "MEDIUM"}),
            json!({"title": "h", "priority": "HIGH"}),
            json!({"title": "l", "priority": "LOW"}),
        ],
    )
    .await;

    // Act
    let ascending = titles(&app.get_tasks(&ann, "?sort=priority&order=asc", 200).await.json());
    let descending = titles(&app.get_tasks(&ann, "?sort=priority", 200).await.json());

    // Assert
    assert_eq!(ascending, ["l", "m", "h"]);
    assert_eq!(descending, ["h", "m", "l"], "order defaults to desc");
}
on_both_backends!(sort_by_priority_orders_by_rank_not_alphabetically);

async fn sort_by_due_date_keeps_undated_tasks_together_at_one_end(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    create_all(
        &app,
        &ann,
        vec![
            json!({"title": "undated 1"}),
            json!({"title": "2030", "dueDate": "2030-01-01T00:00:00Z"}),
            json!({"title": "undated 2"}),
            json!({"title": "2010", "dueDate": "2010-01-01T00:00:00Z"}),
            json!({"title": "2020", "dueDate": "2020-01-01T00:00:00Z"}),
            json!({"title": "undated 3"}),
        ],
    )
    .await;

    for (order, dated_order) in [("asc", ["2010", "2020", "2030"]), ("desc", ["2030", "2020", "2010"])] {
        // Act
        let listed = titles(&app.get_tasks(&ann, &format!("?sort=dueDate&order={order}"), 200).await.json());

        // Assert
        let dated: Vec<&str> = listed.iter().map(String::as_str).filter(|t| !t.starts_with("undated")).collect();
        assert_eq!(dated, dated_order, "{order}: {listed:?}");
        let undated_at: Vec<usize> =
            listed.iter().enumerate().filter(|(_, t)| t.starts_with("undated")).map(|(i, _)| i).collect();
        assert!(
            undated_at == [0, 1, 2] || undated_at == [3, 4, 5],
            "{order}: undated tasks not at one end: {listed:?}"
        );
    }
}
on_both_backends!(sort_by_due_date_keeps_undated_tasks_together_at_one_end);

/// `raw` safe in a query string.
fn percent_encoded(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// 25 tasks with many ties on every sort key.
async fn twenty_five_tasks(app: &TestApp, user: &TestUser) -> HashSet<String> {
    let priorities = ["LOW", "MEDIUM", "HIGH"];
    let bodies = (0..25)
        .map(|i| {
            let mut body = json!({"title": format!("task {}", i % 4), "priority": priorities[i % 3]});
            if i % 2 == 0 {
                body["dueDate"] = json!(format!("2030-01-0{}T00:00:00Z", 1 + i % 3));
            }
            body
        })
        .collect();
    create_all(app, user, bodies).await.iter().map(|t| text(&t["id"])).collect()
}

const SORTS: [&str; 6] = [
    "sort=createdAt",
    "sort=updatedAt&order=asc",
    "sort=priority&order=asc",
    "sort=dueDate",
    "sort=dueDate&order=asc",
    "sort=title",
];

async fn offset_pages_never_overlap_or_skip_and_a_page_past_the_end_is_empty(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let all = twenty_five_tasks(&app, &ann).await;

    for sort in SORTS {
        // Act
        let mut seen = Vec::new();
        for page in 1..=4 {
            let listing = app.get_tasks(&ann, &format!("?{sort}&limit=7&page={page}"), 200).await.json();
            assert_eq!(listing["meta"], json!({"page": page, "limit": 7, "total": 25, "totalPages": 4}), "{sort}");
            seen.extend(listing["data"].as_array().expect("data").iter().map(|t| text(&t["id"])));
        }

        // Assert
        assert_eq!(seen.len(), 25, "{sort}");
        assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), all, "{sort}: pages overlap or skip");
    }
    let past_the_end = app.get_tasks(&ann, "?limit=7&page=5", 200).await.json();
    assert_eq!(past_the_end["data"], json!([]));
    assert_eq!(past_the_end["meta"]["total"], 25, "the real total");
}
on_both_backends!(offset_pages_never_overlap_or_skip_and_a_page_past_the_end_is_empty);

async fn keyset_pages_walk_to_the_end_without_overlap_or_skip(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let ann = app.register_user().await;
    let all = twenty_five_tasks(&app, &ann).await;
    // A filter must hold across pages too: the 16 tasks that are not LOW.
    let not_low: HashSet<String> = {
        let listing = app.get_tasks(&ann, "?priority=MEDIUM,HIGH&limit=100", 200).await.json();
        listing["data"].as_array().expect("data").iter().map(|t| text(&t["id"])).collect()
    };
    assert_eq!(not_low.len(), 16);

    for (filter, expected) in [("", &all), ("&priority=MEDIUM,HIGH", &not_low)] {
        for sort in SORTS {
            // Act
            let mut seen = Vec::new();
            let mut cursor = String::new();
            for _ in 0..10 {
                let listing =
                    app.get_tasks(&ann, &format!("?{sort}{filter}&limit=7&cursor={cursor}"), 200).await.json();
                assert_eq!(listing["meta"]["limit"], 7);
                seen.extend(listing["data"].as_array().expect("data").iter().map(|t| text(&t["id"])));
                match &listing["meta"]["nextCursor"] {
                    Value::Null => break,
                    Value::String(next) => cursor = percent_encoded(next),
                    other => panic!("{sort}: nextCursor is {other}"),
                }
            }

            // Assert
            assert_eq!(seen.len(), expected.len(), "{sort}{filter}: {} ids", seen.len());
            assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), *expected, "{sort}{filter}: overlap or skip");
        }
    }
}
on_both_backends!(keyset_pages_walk_to_the_end_without_overlap_or_skip);
