//! The OpenAPI 3.1 document, generated from the handlers and DTOs, and the bundled Swagger UI at `/docs`.

use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::AppState;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "TaskFlow API", description = "Task management: users, tasks, batch operations.

Conventions (see docs/adr/0005 for the reasons):
- Errors are application/problem+json (RFC 9457) with `requestId` equal to the `X-Request-Id` header.
- Unknown body members and unknown or repeated query parameters are 400; lists are comma-separated.
- `page` and `cursor` together are 400; `cursor=` (empty) asks for the first keyset page. A cursor is bound to the
  sort, order and filters it was made for: replayed with another query it is 400.
- `sort=dueDate` puts tasks without a due date last in both directions; `sort=priority` orders by rank.
- `If-Match` takes the `ETag` (`\"<version>\"`) or `*`; anything else cannot match (412).
- Batch `complete` of an already completed task succeeds without changing it.
- `POST /auth/logout` with an unknown refresh token is 204 (idempotent, reveals nothing).
- A password change ends every session (refresh-token family) of the user.
- Rate-limited routes carry RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds); 429 adds Retry-After.
- 503 (a dependency down, or a request over 30 s) carries Retry-After."),
    paths(
        crate::auth::register, crate::auth::login, crate::auth::refresh, crate::auth::logout, crate::auth::me,
        crate::users::list_users, crate::users::get_user, crate::users::update_user, crate::users::delete_user,
        crate::tasks::create_task, crate::tasks::get_task, crate::tasks::update_task, crate::tasks::delete_task,
        crate::tasks::list_tasks, crate::tasks::task_stats, crate::tasks::batch_tasks,
        crate::health::live, crate::health::ready, crate::health::metrics,
    ),
    components(schemas(crate::error::Problem, crate::error::ProblemField)),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "users"), (name = "tasks"), (name = "operations"))
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

pub fn routes() -> Router<AppState> {
    Router::from(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
}
