//! PostgreSQL specifics of the webhook side that the shared contract cannot see: each queue call is one statement,
//! attempts are logged in `delivery_attempts`, and the claim and the overdue scan run through their indexes.

mod support;

use chrono::TimeDelta;
use sea_orm::{ConnectionTrait, Statement};
use taskflow_adapters_postgres::PgStorage;
use taskflow_adapters_postgres::testing::{StatementLog, fresh_storage_counting};
use taskflow_contract_tests::fixtures::{at, t0, task};
use taskflow_contract_tests::storage::event;
use taskflow_contract_tests::webhooks::webhook;
use taskflow_domain::events::TaskEventKind;
use taskflow_domain::ports::{AttemptRecord, DeliveryQueue, OverdueScan, UnitOfWork, WebhookRepository};
use taskflow_domain::query::PageRequest;
use taskflow_domain::webhook::{AttemptOutcome, FailureClass, Webhook};

use support::{seed, stored_users};

/// A webhook of a new user, and three `task.updated` events of a task of hers, committed (not relayed yet).
async fn webhook_with_three_events(s: &PgStorage) -> Webhook {
    let ann = stored_users(s, 1).await.remove(0);
    let hook = webhook(ann.id(), &TaskEventKind::ALL, at(0));
    s.insert(&hook).await.expect("webhook");
    let t = task(ann.id(), at(0));
    let tx = s.begin().await.expect("begin");
    tx.tasks().insert(&t).await.expect("task");
    let events: Vec<_> = (0..3).map(|_| event(TaskEventKind::Updated, &t)).collect();
    tx.outbox().append(&events).await.expect("append");
    tx.commit().await.expect("commit");
    hook
}

/// How many statements `log` recorded since it was last read.
fn statements(log: &StatementLog) -> usize {
    log.take().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_queue_call_is_one_statement_and_attempts_are_logged() {
    // Arrange
    let (s, log) = fresh_storage_counting().await;
    let hook = webhook_with_three_events(&s).await;
    let _ = log.take();

    // Act and Assert
    let relayed = s.relay(10, at(1)).await.expect("relay");
    assert_eq!((relayed.deliveries, statements(&log)), (3, 1), "relay");
    let claims = s.claim(10, at(1), TimeDelta::minutes(1)).await.expect("claim");
    assert_eq!((claims.len(), statements(&log)), (3, 1), "claim");
    let record = |i: usize, outcome| AttemptRecord {
        id: claims[i].id,
        lease: claims[i].lease,
        attempt: 1,
        outcome,
        at: at(2),
        next_attempt_at: Some(at(5)),
    };
    let failed =
        AttemptOutcome::Failed { class: FailureClass::Timeout, status: None, retry_after: None, duration_ms: 10_000 };
    s.finish(&[record(0, AttemptOutcome::Succeeded { status: 204, duration_ms: 8 }), record(1, failed)])
        .await
        .expect("finish");
    assert_eq!(statements(&log), 1, "finish, whatever the batch size");
    s.release(&[(claims[2].id, claims[2].lease)], at(3)).await.expect("release");
    assert_eq!(statements(&log), 1, "release");
    DeliveryQueue::list(&s, hook.id(), None, PageRequest { page: 1, limit: 10 }).await.expect("list");
    assert_eq!(statements(&log), 1, "list with its total");
    s.retry(hook.id(), claims[1].id, at(4)).await.expect("retry");
    assert_eq!(statements(&log), 1, "retry");
    s.prune(at(100), 10).await.expect("prune");
    assert_eq!(statements(&log), 1, "prune");
    s.figures().await.expect("figures");
    assert_eq!(statements(&log), 1, "figures");
    s.emit_overdue(at(0), 10).await.expect("scan");
    assert_eq!(statements(&log), 1, "overdue scan");

    // The attempt log: two attempts, with what they came to (the succeeded delivery was pruned with its log).
    let logged = s
        .connection()
        .query_all_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT attempt, status_code, error, duration_ms FROM delivery_attempts ORDER BY id",
        ))
        .await
        .expect("attempts");
    let rows: Vec<(i32, Option<i32>, Option<String>, i32)> = logged
        .iter()
        .map(|r| {
            (
                r.try_get("", "attempt").expect("attempt"),
                r.try_get("", "status_code").expect("status_code"),
                r.try_get("", "error").expect("error"),
                r.try_get("", "duration_ms").expect("duration_ms"),
            )
        })
        .collect();
    assert_eq!(rows, vec![(1, None, Some("timeout".to_owned()), 10_000)], "the failed attempt stays logged");
}

/// EXPLAINs the statements `log` recorded and returns their plan nodes (`Node Type on relation [index]`).
async fn plan_nodes(s: &PgStorage, log: &StatementLog) -> Vec<String> {
    let mut nodes = Vec::new();
    for st in log.take() {
        let explain = Statement { sql: format!("EXPLAIN (FORMAT JSON) {}", st.sql), ..st };
        let row = s.connection().query_one_raw(explain).await.expect("explain").expect("a plan");
        let plan: serde_json::Value = row.try_get("", "QUERY PLAN").expect("plan column");
        walk(&plan, &mut nodes);
    }
    // The EXPLAINs were recorded too.
    let _ = log.take();
    nodes
}

fn walk(node: &serde_json::Value, out: &mut Vec<String>) {
    if let Some(array) = node.as_array() {
        array.iter().for_each(|n| walk(n, out));
        return;
    }
    if let Some(plan) = node.get("Plan") {
        return walk(plan, out);
    }
    let field = |k: &str| node.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let mut text = field("Node Type");
    if !field("Relation Name").is_empty() {
        text.push_str(&format!(" on {}", field("Relation Name")));
    }
    if !field("Index Name").is_empty() {
        text.push_str(&format!(" [{}]", field("Index Name")));
    }
    out.push(text);
    if let Some(children) = node.get("Plans").and_then(|p| p.as_array()) {
        children.iter().for_each(|n| walk(n, out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_claim_and_the_overdue_scan_use_their_partial_indexes() {
    // Arrange: 30,000 tasks (a mix of past, future and no due dates), and 30,000 deliveries of which 1 in 100 is
    // still open.
    let (s, log) = fresh_storage_counting().await;
    let users = stored_users(&s, 5).await;
    let owners: Vec<_> = users.iter().map(|u| u.id()).collect();
    seed(&s, &owners, 30_000).await;
    let hook = webhook(owners[0], &TaskEventKind::ALL, at(0));
    s.insert(&hook).await.expect("webhook");
    // One real event, whose payload the others copy.
    let tx = s.begin().await.expect("begin");
    tx.outbox().append(&[event(TaskEventKind::Updated, &task(owners[0], at(0)))]).await.expect("append");
    tx.commit().await.expect("commit");
    let fill = format!(
        "INSERT INTO outbox_events (id, kind, task_id, owner_id, payload, occurred_at, dispatched_at) \
         SELECT gen_random_uuid(), 'task.updated', gen_random_uuid(), '{owner}', \
                (SELECT payload FROM outbox_events LIMIT 1), now(), now() \
         FROM generate_series(1, 30000); \
         INSERT INTO webhook_deliveries (id, webhook_id, event_id, event, status, attempts, next_attempt_at, \
                                         created_at, updated_at) \
         SELECT gen_random_uuid(), '{hook}', e.id, e.kind, \
                CASE WHEN row_number() OVER () % 100 = 0 THEN 'pending' ELSE 'succeeded' END, 1, \
                CASE WHEN row_number() OVER () % 100 = 0 THEN now() END, now(), now() \
         FROM outbox_events e; \
         ANALYZE;",
        owner = owners[0].as_uuid(),
        hook = hook.id().as_uuid(),
    );
    s.connection().execute_unprepared(&fill).await.expect("fill");
    let _ = log.take();

    // Act
    let now = t0() + TimeDelta::days(365);
    s.claim(10, now, TimeDelta::minutes(1)).await.expect("claim");
    let claim = plan_nodes(&s, &log).await;
    s.emit_overdue(t0(), 100).await.expect("scan");
    let scan = plan_nodes(&s, &log).await;
    println!("claim: {}\nscan: {}", claim.join(" > "), scan.join(" > "));

    // Assert
    assert!(claim.iter().any(|n| n.contains("[webhook_deliveries_open_idx]")), "claim: {claim:?}");
    assert!(!claim.iter().any(|n| n.starts_with("Seq Scan on webhook_deliveries")), "claim: {claim:?}");
    assert!(scan.iter().any(|n| n.contains("[tasks_overdue_idx]")), "scan: {scan:?}");
    assert!(!scan.iter().any(|n| n.starts_with("Seq Scan on tasks")), "scan: {scan:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_that_leaves_a_receiver_out_reads_none_of_its_deliveries() {
    // Arrange: one receiver with 2,000 due deliveries.
    let (s, log) = fresh_storage_counting().await;
    let owner = stored_users(&s, 1).await.remove(0).id();
    let hook = webhook(owner, &TaskEventKind::ALL, at(0));
    s.insert(&hook).await.expect("webhook");
    let tx = s.begin().await.expect("begin");
    tx.outbox().append(&[event(TaskEventKind::Updated, &task(owner, at(0)))]).await.expect("append");
    tx.commit().await.expect("commit");
    let fill = format!(
        "INSERT INTO outbox_events (id, kind, task_id, owner_id, payload, occurred_at, dispatched_at) \
         SELECT gen_random_uuid(), 'task.updated', gen_random_uuid(), '{owner}', \
                (SELECT payload FROM outbox_events LIMIT 1), now(), now() \
         FROM generate_series(1, 2000); \
         INSERT INTO webhook_deliveries (id, webhook_id, event_id, event, status, attempts, next_attempt_at, \
                                         created_at, updated_at) \
         SELECT gen_random_uuid(), '{hook}', e.id, e.kind, 'pending', 0, now(), now(), now() FROM outbox_events e;",
        owner = owner.as_uuid(),
        hook = hook.id().as_uuid(),
    );
    s.connection().execute_unprepared(&fill).await.expect("fill");
    let now = t0() + TimeDelta::days(365);
    let _ = log.take();

    // Act: the claim that a worker makes once this receiver's share is taken (it finds nothing, changes nothing).
    let claimed = s.claim_skipping(8, now, TimeDelta::minutes(1), &[hook.id()]).await.expect("claim");
    let statement = log.take().remove(0);
    let explain = Statement { sql: format!("EXPLAIN (ANALYZE, FORMAT JSON) {}", statement.sql), ..statement };
    let row = s.connection().query_one_raw(explain).await.expect("explain").expect("a plan");
    let plan: serde_json::Value = row.try_get("", "QUERY PLAN").expect("plan column");

    // Assert: a scan by due time over every receiver read the 2,000 to find none of another receiver's.
    assert!(claimed.is_empty());
    let read = rows_read(&plan, "webhook_deliveries");
    assert!(read <= 2, "delivery rows read by a claim that leaves their receiver out: {read}; plan: {plan}");
}

/// Rows that the plan's scans of `table` produced or filtered out (an EXPLAIN ANALYZE in JSON).
fn rows_read(node: &serde_json::Value, table: &str) -> u64 {
    if let Some(array) = node.as_array() {
        return array.iter().map(|n| rows_read(n, table)).sum();
    }
    if let Some(plan) = node.get("Plan") {
        return rows_read(plan, table);
    }
    let number = |k: &str| node.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let own = if node.get("Relation Name").and_then(|v| v.as_str()) == Some(table) {
        (number("Actual Rows") + number("Rows Removed by Filter")) * number("Actual Loops").max(1)
    } else {
        0
    };
    let children = node.get("Plans").map_or(0, |c| rows_read(c, table));
    own + children
}

/// `n_tup_hot_upd` of `webhook_deliveries`, once the statistics show at least `want` (PostgreSQL publishes a
/// backend's counts when its transaction ends, or within about 10 s), or what they show after 15 s.
async fn hot_updates(s: &PgStorage, want: i64) -> i64 {
    let sql = "SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'webhook_deliveries'";
    let started = std::time::Instant::now();
    loop {
        let row = s.connection().query_one_raw(Statement::from_string(s.connection().get_database_backend(), sql));
        let n: i64 = row.await.expect("pg_stat_user_tables").expect("a row").try_get("", "n_tup_hot_upd").expect("n");
        if n >= want || started.elapsed() > std::time::Duration::from_secs(15) {
            return n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_writes_only_the_lease_so_that_its_update_is_heap_only() {
    // Arrange: three due deliveries.
    let (s, _) = fresh_storage_counting().await;
    let hook = webhook_with_three_events(&s).await;
    s.relay(10, at(1)).await.expect("relay");
    let due_times = "SELECT string_agg(next_attempt_at::text, ',' ORDER BY id) AS due FROM webhook_deliveries";
    let read_due = || async {
        let row =
            s.connection().query_one_raw(Statement::from_string(s.connection().get_database_backend(), due_times));
        row.await.expect("select").expect("a row").try_get::<String>("", "due").expect("due")
    };
    let before = read_due().await;
    let hot_before = hot_updates(&s, 0).await;

    // Act
    let claims = s.claim(10, at(1), TimeDelta::minutes(1)).await.expect("claim");

    // Assert: the due times stay (no indexed column changes), the updates stay on their pages, and owners see
    // the lease's expiry as the next attempt.
    assert_eq!(claims.len(), 3);
    assert_eq!(read_due().await, before, "a claim does not move the due time");
    assert_eq!(hot_updates(&s, hot_before + 3).await - hot_before, 3, "each claimed row updated heap-only");
    let (listed, _) = DeliveryQueue::list(&s, hook.id(), None, PageRequest { page: 1, limit: 10 }).await.expect("list");
    let expiry = at(1) + TimeDelta::minutes(1);
    assert!(listed.iter().all(|d| d.next_attempt_at == Some(expiry)), "{listed:?}");
    let meanwhile = at(1) + TimeDelta::seconds(59);
    assert!(s.claim(10, meanwhile, TimeDelta::minutes(1)).await.expect("claim").is_empty(), "leased: not due again");
    assert_eq!(s.claim(10, expiry, TimeDelta::minutes(1)).await.expect("claim").len(), 3, "due once it expires");
}
