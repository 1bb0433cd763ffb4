//! The OpenAPI 3.1 document, generated from the handlers and DTOs, and the bundled Swagger UI at `/docs`.

use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::AppState;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "TaskFlow API", description = "Task management: users, tasks, batch operations. Errors are \
        application/problem+json (RFC 9457). Unknown body members are rejected (400). Rate-limited routes carry \
        RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset."),
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
