//! [`WebhookRepository`] on `webhooks`: one statement per call; a deletion takes the webhook's deliveries with it
//! (`ON DELETE CASCADE`), so none of them can be claimed again.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult, Value};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::WebhookRepository;
use taskflow_domain::webhook::{EventTypes, Webhook, WebhookDescription, WebhookRecord, WebhookSecret, WebhookUrl};
use taskflow_domain::{RepoError, UserId, WebhookId};
use uuid::Uuid;

use crate::error::{bounded, corrupt, map_db_err};
use crate::read::Sql;
use crate::storage::PgStorage;

/// Every `webhooks` column, in the order of [`WebhookRow`].
pub(crate) const WEBHOOK_COLUMNS: &str =
    "id, owner_id, url, events, description, active, secret, created_at, updated_at";

/// One `webhooks` row.
#[derive(Debug, FromQueryResult)]
struct WebhookRow {
    id: Uuid,
    owner_id: Uuid,
    url: String,
    events: Vec<String>,
    description: Option<String>,
    active: bool,
    secret: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn webhook_from(row: &QueryResult) -> Result<Webhook, RepoError> {
    let r = WebhookRow::from_query_result(row, "").map_err(map_db_err)?;
    Ok(Webhook::from_record(WebhookRecord {
        id: WebhookId::from_uuid(r.id),
        owner: UserId::from_uuid(r.owner_id),
        url: WebhookUrl::parse(&r.url).map_err(|e| corrupt("webhook url", e))?,
        events: EventTypes::parse(&r.events).map_err(|e| corrupt("webhook events", e))?,
        description: match r.description {
            Some(d) => WebhookDescription::parse(&d).map_err(|e| corrupt("webhook description", e))?,
            None => None,
        },
        active: r.active,
        secret: WebhookSecret::parse(&r.secret).map_err(|e| corrupt("webhook secret", e))?,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }))
}

/// The bound values of every column but the id and owner, in `UPDATE ... SET` order.
fn changeable(hook: &Webhook, sql: &mut Sql) -> [String; 6] {
    let events: Vec<String> = hook.events().names().into_iter().map(str::to_owned).collect();
    [
        sql.bind(hook.url().as_str()),
        format!("{}::text[]", sql.bind(events)),
        sql.bind(Value::from(hook.description().map(|d| d.as_str().to_owned()))),
        sql.bind(hook.active()),
        sql.bind(hook.secret().expose()),
        sql.bind(hook.updated_at()),
    ]
}

/// `AND owner_id = $n` for an owner scope.
fn scope_filter(scope: TaskScope, sql: &mut Sql) -> String {
    match scope {
        TaskScope::All => String::new(),
        TaskScope::Owner(owner) => format!(" AND owner_id = {}", sql.bind(owner.as_uuid())),
    }
}

#[async_trait]
impl WebhookRepository for PgStorage {
    async fn insert(&self, hook: &Webhook) -> Result<(), RepoError> {
        let mut sql = Sql::default();
        let id = sql.bind(hook.id().as_uuid());
        let owner = sql.bind(hook.owner().as_uuid());
        let [url, events, description, active, secret, updated_at] = changeable(hook, &mut sql);
        let created_at = sql.bind(hook.created_at());
        let text = format!(
            "INSERT INTO webhooks ({WEBHOOK_COLUMNS}) \
             VALUES ({id}, {owner}, {url}, {events}, {description}, {active}, {secret}, {created_at}, {updated_at})"
        );
        bounded(self.deadline, self.db.execute_raw(sql.into_statement(text))).await?;
        Ok(())
    }

    async fn get(&self, id: WebhookId, scope: TaskScope) -> Result<Option<Webhook>, RepoError> {
        let mut sql = Sql::default();
        let id = sql.bind(id.as_uuid());
        let scope = scope_filter(scope, &mut sql);
        let text = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = {id}{scope}");
        let row = bounded(self.deadline, self.db.query_one_raw(sql.into_statement(text))).await?;
        row.as_ref().map(webhook_from).transpose()
    }

    async fn list(&self, scope: TaskScope) -> Result<Vec<Webhook>, RepoError> {
        let mut sql = Sql::default();
        let scope = scope_filter(scope, &mut sql);
        let text = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE true{scope} ORDER BY created_at, id");
        let rows = bounded(self.deadline, self.db.query_all_raw(sql.into_statement(text))).await?;
        rows.iter().map(webhook_from).collect()
    }

    async fn count(&self, scope: TaskScope) -> Result<u64, RepoError> {
        let mut sql = Sql::default();
        let scope = scope_filter(scope, &mut sql);
        let text = format!("SELECT count(*) AS n FROM webhooks WHERE true{scope}");
        let row = bounded(self.deadline, self.db.query_one_raw(sql.into_statement(text))).await?;
        let n: i64 = row.map(|r| r.try_get("", "n")).transpose().map_err(map_db_err)?.unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn update(&self, hook: &Webhook) -> Result<bool, RepoError> {
        let mut sql = Sql::default();
        let [url, events, description, active, secret, updated_at] = changeable(hook, &mut sql);
        let id = sql.bind(hook.id().as_uuid());
        let text = format!(
            "UPDATE webhooks SET url = {url}, events = {events}, description = {description}, active = {active}, \
             secret = {secret}, updated_at = {updated_at} WHERE id = {id}"
        );
        let done = bounded(self.deadline, self.db.execute_raw(sql.into_statement(text))).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete(&self, id: WebhookId, scope: TaskScope) -> Result<bool, RepoError> {
        let mut sql = Sql::default();
        let id = sql.bind(id.as_uuid());
        let scope = scope_filter(scope, &mut sql);
        // Its deliveries, open ones included, go with it (ON DELETE CASCADE) in this one statement.
        let text = format!("DELETE FROM webhooks WHERE id = {id}{scope}");
        let done = bounded(self.deadline, self.db.execute_raw(sql.into_statement(text))).await?;
        Ok(done.rows_affected() > 0)
    }
}
