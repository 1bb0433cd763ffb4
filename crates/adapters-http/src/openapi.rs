//! The OpenAPI 3.1 document, generated from the handlers and DTOs, and the bundled Swagger UI at `/docs`.
//!
//! Each handler's `#[utoipa::path]` lists what is particular to it (its success, 403, 404, 409, 412, 422). What
//! every route shares because of the middleware is added here by [`Conventions`], from the same facts the
//! middleware acts on, so the document cannot drift from it: `X-Request-Id` on every answer, 401 with
//! `WWW-Authenticate` wherever a bearer token is required, 400/408/413/415 wherever a JSON body is read, 400
//! wherever parameters are parsed, 429 and the `RateLimit-*` headers on the rate-limited paths, and 503 with
//! `Retry-After` everywhere (a dependency down, load shedding, or the request timeout). Every error body is
//! `application/problem+json` with the [`Problem`] schema.
//!
//! The schemas of the wire values whose rules live in the domain are in [`crate::schemas`].

use axum::Router;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, Parameter};
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response, Schema};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::AppState;
use crate::error::{PROBLEM_JSON, Problem};
use crate::rate_limit::is_limited;
use crate::schemas::{
    DeliveryStatusSchema, EventTypeSchema, IdempotencyKeySchema, LimitSchema, PageSchema, PriorityListSchema,
    SearchSchema, SortFieldSchema, SortOrderSchema, StatusListSchema,
};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "TaskFlow API", description = "Task management: users, tasks, batch operations, webhooks.

Conventions (see docs/adr/0005 for the reasons):
- Errors are application/problem+json (RFC 9457) with `requestId` equal to the `X-Request-Id` header.
- Unknown body members and unknown or repeated query parameters are 400; lists are comma-separated.
- `page` and `cursor` together are 400; `cursor=` (empty) asks for the first keyset page. A cursor is bound to the
  sort, order and filters it was made for: replayed with another query it is 400.
- `sort=dueDate` puts tasks without a due date last in both directions; `sort=priority` orders by rank.
- A task's history (`GET /tasks/{id}/history`) is keyset-paged like listings (`cursor=` or no cursor for the first
  page); a cursor is bound to its task. A deleted task's history stays readable by its owner and admins.
- `If-Match` takes the `ETag` (`\"<version>\"`) or `*`; anything else cannot match (412).
- Batch `complete` of an already completed task succeeds without changing it.
- `POST /auth/logout` with an unknown refresh token is 204 (idempotent, reveals nothing).
- A password change ends every session (refresh-token family) of the user.
- Rate-limited routes carry RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds); 429 adds Retry-After.
  Limits are shared by every instance; with limits of 200 or more per period, an instance admits a busy client's
  requests a hundredth of the limit at a time, so RateLimit-Remaining is then approximate (it does not see what
  other instances admitted since); the limit itself is never exceeded, and a 429 always has RateLimit-Remaining 0.
- 503 (a dependency down, or a request over 30 s) carries Retry-After.
- `GET /events` streams server-sent events; `Last-Event-ID` must name an event of the stream (400 otherwise). A
  stream ends when its access token expires: reconnect with a fresh token and `Last-Event-ID`. At most 128 streams
  per user per instance (429).
- A webhook's `secret` is shown once, in the answer to its creation. A user may hold at most 100 webhooks (409
  past that). Another user's webhook, and its deliveries, are 404; an admin sees every webhook.
- Text members are trimmed of white space at both ends before their length is counted; titles and names must not
  contain control characters, descriptions none but line breaks and tabs."),
    paths(
        crate::auth::register, crate::auth::login, crate::auth::refresh, crate::auth::logout, crate::auth::me,
        crate::users::list_users, crate::users::get_user, crate::users::update_user, crate::users::delete_user,
        crate::tasks::create_task, crate::tasks::get_task, crate::tasks::update_task, crate::tasks::delete_task,
        crate::tasks::list_tasks, crate::tasks::task_stats, crate::tasks::batch_tasks,
        crate::tasks::history::task_history,
        crate::webhooks::create_webhook, crate::webhooks::list_webhooks, crate::webhooks::get_webhook,
        crate::webhooks::update_webhook, crate::webhooks::delete_webhook, crate::webhooks::list_deliveries,
        crate::webhooks::retry_delivery,
        crate::events::follow,
        crate::health::live, crate::health::ready, crate::health::metrics,
    ),
    // The parameter schemas: utoipa collects the schemas of bodies and responses by itself, not these.
    components(schemas(
        crate::error::Problem, crate::error::ProblemField, StatusListSchema, PriorityListSchema, SearchSchema,
        SortFieldSchema, SortOrderSchema, PageSchema, LimitSchema, IdempotencyKeySchema, DeliveryStatusSchema,
        EventTypeSchema,
    )),
    modifiers(&BearerAuth, &Conventions),
    tags((name = "auth"), (name = "users"), (name = "tasks"), (name = "webhooks"), (name = "events"), (name = "operations"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("PASETO v4").build()),
        );
    }
}

/// The Swagger UI at `/docs` and the document at `/openapi.json`.
///
/// The UI's online validator is off (`validatorUrl: "none"`): by default the page would send the document's
/// address to a third-party service and show a broken badge offline.
pub fn routes() -> Router<AppState> {
    Router::from(swagger_ui())
}

fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs")
        .url("/openapi.json", ApiDoc::openapi())
        .config(Config::from("/openapi.json").validator_url("none"))
}

// ---- Headers

/// `X-Request-Id`, on every answer.
const X_REQUEST_ID: &str = "X-Request-Id";
/// `Retry-After`, on 429 and 503.
const RETRY_AFTER: &str = "Retry-After";
/// `WWW-Authenticate`, on 401.
const WWW_AUTHENTICATE: &str = "WWW-Authenticate";
/// `ETag`, on every answer that carries a task.
const ETAG: &str = "ETag";
/// `Location`, on 201 (a new task or webhook).
const LOCATION: &str = "Location";
/// The rate-limit headers, on every answer of a limited path but a 503 (which may come from the request timeout,
/// outside the limiter).
const RATE_LIMIT_HEADERS: [&str; 3] = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"];

/// A header that is always present where it is declared.
///
/// utoipa's `Header` has no `required` member although OpenAPI's Header Object has one: it is set through the
/// flattened extension map, which serialises it as a member of the header object.
fn required_header(schema: impl Into<RefOr<Schema>>, description: &str) -> Header {
    let mut extensions = utoipa::openapi::extensions::Extensions::default();
    extensions.insert("required".to_owned(), serde_json::Value::Bool(true));
    HeaderBuilder::new().schema(Some(schema)).description(Some(description)).extensions(Some(extensions)).build()
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn non_negative_integer() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0))
}

/// The reusable headers, registered under `components.headers`.
fn component_headers() -> Vec<(&'static str, Header)> {
    vec![
        (
            X_REQUEST_ID,
            required_header(
                string().min_length(Some(1)).max_length(Some(64)).pattern(Some("^[A-Za-z0-9._-]{1,64}$")),
                "The request's id: the client's own if it sent a valid one (1-64 characters of `[A-Za-z0-9._-]`), \
                 else a new UUID. Equal to `requestId` in error bodies.",
            ),
        ),
        (
            RETRY_AFTER,
            required_header(
                ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)),
                "Seconds to wait before retrying.",
            ),
        ),
        (WWW_AUTHENTICATE, required_header(string().enum_values(Some(["Bearer"])), "Always `Bearer`.")),
        (
            RATE_LIMIT_HEADERS[0],
            required_header(non_negative_integer(), "Requests allowed per minute in this request's bucket."),
        ),
        (
            RATE_LIMIT_HEADERS[1],
            required_header(non_negative_integer(), "Requests left in the current window (0 on a 429)."),
        ),
        (RATE_LIMIT_HEADERS[2], required_header(non_negative_integer(), "Seconds until the window resets.")),
        (
            ETAG,
            required_header(
                string().pattern(Some(r#"^"[1-9][0-9]*"$"#)),
                "The task's version, quoted: `If-Match` takes it back.",
            ),
        ),
        (
            LOCATION,
            required_header(
                string()
                    .pattern(Some("^/(tasks|webhooks)/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")),
                "The new resource's path.",
            ),
        ),
    ]
}

fn header_ref(name: &str) -> RefOr<Header> {
    RefOr::Ref(Ref::new(format!("#/components/headers/{name}")))
}

/// What an error status means when a handler's annotation does not say more.
fn default_description(status: &str) -> &'static str {
    match status {
        "400" => "The input is invalid: a malformed or unknown parameter or body member (named in `errors`).",
        "401" => "Missing, malformed, expired or revoked credentials.",
        "403" => "The caller's role does not allow this.",
        "404" => "Not found (or not visible to the caller).",
        "409" => "Conflict.",
        "408" => "The body did not arrive in time.",
        "412" => "`If-Match` does not name the current version.",
        "413" => "The body is larger than 1 MiB.",
        "415" => "The body is not `application/json`.",
        "422" => "This `Idempotency-Key` was used with a different request.",
        "429" => "Rate limit exceeded; retry after `Retry-After` seconds.",
        "503" => {
            "A dependency is unavailable, the instance is overloaded or draining, or the request took too long; retry \
             after `Retry-After` seconds."
        }
        _ => "Success.",
    }
}

/// Adds to every operation what the middleware does on every route: see the module documentation.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, header) in component_headers() {
            components.headers.insert(name.to_owned(), RefOr::T(header));
        }
        for (path, item) in &mut openapi.paths.paths {
            let limited = is_limited(path);
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                for parameter in operation.parameters.iter_mut().flatten() {
                    if let RefOr::T(parameter) = parameter {
                        without_null(parameter);
                    }
                }
                add_shared_responses(operation, limited);
                for (status, response) in &mut operation.responses.responses {
                    if let RefOr::T(response) = response {
                        complete_response(status, response, limited);
                    }
                }
            }
        }
    }
}

/// A parameter is text on the wire, where `null` means nothing: an optional parameter is absent, not null. utoipa
/// makes the schema of an `Option` nullable; this keeps the other type.
fn without_null(parameter: &mut Parameter) {
    match &mut parameter.schema {
        Some(RefOr::T(Schema::Object(object))) => {
            if let SchemaType::Array(types) = &object.schema_type {
                let kept: Vec<Type> = types.iter().filter(|t| **t != Type::Null).cloned().collect();
                object.schema_type =
                    if kept.len() == 1 { SchemaType::Type(kept[0].clone()) } else { SchemaType::Array(kept) };
            }
        }
        Some(RefOr::T(Schema::OneOf(one_of))) => {
            let mut kept: Vec<RefOr<Schema>> = one_of
                .items
                .iter()
                .filter(|item| !matches!(item, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null)))
                .cloned()
                .collect();
            if kept.len() == 1 {
                parameter.schema = kept.pop();
            }
        }
        _ => {}
    }
}

/// The statuses an operation can answer because of the middleware and extractors it goes through.
fn add_shared_responses(operation: &mut Operation, limited: bool) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = operation.request_body.is_some();
    let has_parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut shared = vec!["503"];
    if secured {
        shared.push("401");
    }
    if has_body {
        shared.extend(["400", "408", "413", "415"]);
    }
    if has_parameters {
        shared.push("400");
    }
    if limited {
        shared.push("429");
    }
    for status in shared {
        operation.responses.responses.entry(status.to_owned()).or_insert_with(|| RefOr::T(Response::new("")));
    }
}

/// Gives a response its description, its error body and its headers.
fn complete_response(status: &str, response: &mut Response, limited: bool) {
    if response.description.is_empty() {
        response.description = default_description(status).to_owned();
    }
    let is_error = status.starts_with('4') || status.starts_with('5');
    if is_error {
        // A handler's own JSON body (the readiness report on 503) stays; the problem is what every other layer sends.
        let problem_ref = RefOr::Ref(Ref::from_schema_name(Problem::name()));
        let own_is_problem = response
            .content
            .get("application/json")
            .is_some_and(|c| matches!(c, RefOr::T(c) if c.schema == Some(problem_ref.clone())));
        if own_is_problem {
            response.content.shift_remove("application/json");
        }
        response.content.insert(PROBLEM_JSON.to_owned(), RefOr::T(Content::new(Some(problem_ref))));
    }
    response.headers.insert(X_REQUEST_ID.to_owned(), header_ref(X_REQUEST_ID));
    if status == "401" {
        response.headers.insert(WWW_AUTHENTICATE.to_owned(), header_ref(WWW_AUTHENTICATE));
    }
    if status == "429" || status == "503" {
        response.headers.insert(RETRY_AFTER.to_owned(), header_ref(RETRY_AFTER));
    }
    // Inline `ETag` and `Location` declarations of the handlers become the shared, required ones.
    for name in [ETAG, LOCATION] {
        if response.headers.contains_key(name) {
            response.headers.insert(name.to_owned(), header_ref(name));
        }
    }
    if limited && status != "503" {
        for name in RATE_LIMIT_HEADERS {
            response.headers.insert(name.to_owned(), header_ref(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> serde_json::Value {
        serde_json::to_value(ApiDoc::openapi()).expect("the document serialises")
    }

    fn responses(doc: &serde_json::Value) -> impl Iterator<Item = (String, &serde_json::Value)> {
        doc["paths"].as_object().expect("paths").iter().flat_map(|(path, item)| {
            item.as_object().expect("a path item").iter().flat_map(move |(method, op)| {
                op["responses"]
                    .as_object()
                    .expect("responses")
                    .iter()
                    .map(move |(status, r)| (format!("{method} {path} {status}"), r))
            })
        })
    }

    #[test]
    fn every_response_has_a_description_and_a_request_id() {
        let doc = doc();
        for (name, response) in responses(&doc) {
            assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()), "{name} has no description");
            assert!(response["headers"][X_REQUEST_ID].is_object(), "{name} declares no X-Request-Id");
        }
    }

    #[test]
    fn every_error_is_a_problem_document() {
        let doc = doc();
        for (name, response) in responses(&doc) {
            let status: u16 = name.rsplit(' ').next().and_then(|s| s.parse().ok()).expect("a numeric status");
            if status >= 400 {
                assert_eq!(
                    response["content"][PROBLEM_JSON]["schema"]["$ref"], "#/components/schemas/Problem",
                    "{name} is not documented as a problem"
                );
                let problem_as_json = &response["content"]["application/json"]["schema"]["$ref"];
                assert_ne!(problem_as_json, "#/components/schemas/Problem", "{name} documents a problem as JSON");
            }
        }
    }

    #[test]
    fn shared_statuses_are_documented_where_the_middleware_can_answer_them() {
        let doc = doc();
        let post_tasks = &doc["paths"]["/tasks"]["post"]["responses"];
        for status in ["400", "401", "408", "413", "415", "429", "503"] {
            assert!(post_tasks[status].is_object(), "POST /tasks lacks {status}");
        }
        assert_eq!(post_tasks["401"]["headers"][WWW_AUTHENTICATE]["$ref"], "#/components/headers/WWW-Authenticate");
        assert_eq!(post_tasks["429"]["headers"][RETRY_AFTER]["$ref"], "#/components/headers/Retry-After");
        assert!(post_tasks["201"]["headers"]["RateLimit-Remaining"].is_object());
        let live = &doc["paths"]["/health/live"]["get"]["responses"];
        assert!(live["429"].is_null() && live["401"].is_null(), "the health checks are neither limited nor secured");
        assert!(live["200"]["headers"]["RateLimit-Limit"].is_null());
        assert_eq!(doc["components"]["headers"][X_REQUEST_ID]["required"], true);
    }

    #[test]
    fn parameters_are_never_null_and_task_headers_are_required() {
        let doc = doc();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("a path item") {
                for parameter in op["parameters"].as_array().into_iter().flatten() {
                    let schema = parameter["schema"].to_string();
                    assert!(!schema.contains("null"), "{method} {path} {}: {schema}", parameter["name"]);
                }
            }
        }
        let created = &doc["paths"]["/tasks"]["post"]["responses"]["201"]["headers"];
        assert_eq!(created[ETAG]["$ref"], "#/components/headers/ETag");
        assert_eq!(created[LOCATION]["$ref"], "#/components/headers/Location");
        assert_eq!(doc["components"]["headers"][ETAG]["required"], true);
    }

    #[test]
    fn every_webhook_route_documents_its_errors_and_the_secret_only_on_creation() {
        let doc = doc();
        let routes = [
            ("/webhooks", "post", &["201", "400", "401", "409", "429"][..]),
            ("/webhooks", "get", &["200", "401", "429"][..]),
            ("/webhooks/{id}", "get", &["200", "400", "401", "404", "429"][..]),
            ("/webhooks/{id}", "patch", &["200", "400", "401", "404", "429"][..]),
            ("/webhooks/{id}", "delete", &["204", "400", "401", "404", "429"][..]),
            ("/webhooks/{id}/deliveries", "get", &["200", "400", "401", "404", "429"][..]),
            ("/webhooks/{id}/deliveries/{deliveryId}/retry", "post", &["202", "400", "401", "404", "409", "429"][..]),
        ];
        for (path, method, statuses) in routes {
            let responses = &doc["paths"][path][method]["responses"];
            for status in statuses {
                assert!(responses[*status].is_object(), "{method} {path} lacks {status}");
            }
            assert!(responses["200"]["headers"]["RateLimit-Limit"].is_object() || responses["200"].is_null());
        }
        let created = &doc["paths"]["/webhooks"]["post"]["responses"]["201"];
        assert_eq!(created["headers"][LOCATION]["$ref"], "#/components/headers/Location");
        let schemas = &doc["components"]["schemas"];
        assert!(schemas["CreatedWebhookOut"]["required"].as_array().unwrap().contains(&"secret".into()));
        assert!(schemas["WebhookOut"]["properties"]["secret"].is_null(), "only the 201 shows the secret");
        assert_eq!(schemas["EventTypes"]["uniqueItems"], true);
    }

    #[test]
    fn the_history_route_documents_its_page_its_errors_and_always_present_members() {
        let doc = doc();
        let history = &doc["paths"]["/tasks/{id}/history"]["get"];
        for status in ["200", "400", "401", "404", "429", "503"] {
            assert!(history["responses"][status].is_object(), "the history lacks {status}");
        }
        let names: Vec<_> = history["parameters"].as_array().unwrap().iter().map(|p| p["name"].clone()).collect();
        assert_eq!(names, ["id", "cursor", "limit"]);
        let page = &history["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(page, "#/components/schemas/TaskHistory");
        let schemas = &doc["components"]["schemas"];
        let required = |name: &str| schemas[name]["required"].as_array().cloned().unwrap_or_default();
        assert_eq!(required("HistoryPage"), ["limit", "nextCursor"]);
        let event = ["id", "type", "occurredAt", "taskId", "actorId", "version", "changes"];
        assert_eq!(required("Event"), event);
        assert_eq!(required("FieldChange"), ["from", "to"]);
        assert!(required("TaskChanges").is_empty(), "only the members that changed are present");
        let mut members: Vec<_> = schemas["TaskChanges"]["properties"].as_object().unwrap().keys().cloned().collect();
        members.sort();
        assert_eq!(members, ["completedAt", "description", "dueDate", "priority", "status", "title"]);
    }

    #[test]
    fn the_events_route_documents_its_stream_its_resume_header_and_its_refusals() {
        let doc = doc();
        let events = &doc["paths"]["/events"]["get"];
        for status in ["200", "400", "401", "429", "503"] {
            assert!(events["responses"][status].is_object(), "/events lacks {status}");
        }
        assert!(events["responses"]["200"]["content"]["text/event-stream"].is_object());
        let header = &events["parameters"][0];
        assert_eq!((&header["name"], &header["in"]), (&"Last-Event-ID".into(), &"header".into()));
        assert_eq!(events["tags"][0], "events");
    }

    #[tokio::test]
    async fn the_docs_page_calls_no_online_validator() {
        use tower::ServiceExt as _;
        let request = axum::http::Request::get("/docs/swagger-initializer.js")
            .body(axum::body::Body::empty())
            .expect("a request");
        let response = Router::from(swagger_ui()).oneshot(request).await.expect("an answer");
        assert_eq!(response.status(), axum::http::StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("the script");
        let script = String::from_utf8_lossy(&body);
        assert!(script.contains(r#""validatorUrl": "none""#), "the validator is on: {script}");
    }
}
