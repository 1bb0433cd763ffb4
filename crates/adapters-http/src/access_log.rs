//! The access log: one INFO line per request, target `taskflow::access`.
//!
//! Fields: `request_id`, `method` (the standard methods, else `OTHER`), `route` (the route template such as
//! `/tasks/{id}`, or `unmatched`), `status`, `latency_ms` (a number) and `user_id` when the request carried a valid
//! access token. Never the raw URI, the query string, a header or a token: query values may carry personal data,
//! and ids in paths are already in the route's place as a template. A request that is dropped before it has a
//! response (the client went away) is logged too, as `request cancelled` with `cancelled = true` and no status.
//!
//! The layer sits outside authentication, so it learns the user through a [`UserSlot`] it puts in the request's
//! extensions and that authentication fills with [`note_user`].

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::Request;
use axum::http::Extensions;
use axum::middleware::Next;
use axum::response::Response;
use taskflow_application::domain::ids::UserId;
use taskflow_application::domain::policy::Actor;

use crate::observability::{method_label, route_label};
use crate::request_id::current_request_id;

/// Where authentication leaves the caller's id for the access log line.
#[derive(Debug, Clone, Default)]
pub struct UserSlot(Arc<OnceLock<UserId>>);

/// Tells the access log who the authenticated caller is (a no-op outside the access log layer).
pub fn note_user(extensions: &Extensions, actor: &Actor) {
    if let Some(slot) = extensions.get::<UserSlot>() {
        let _ = slot.0.set(actor.user_id);
    }
}

/// One request's line, written when the response is ready or, if the request is dropped first, on drop.
struct Entry {
    start: Instant,
    request_id: String,
    method: &'static str,
    route: String,
    user: UserSlot,
    logged: bool,
}

impl Entry {
    fn latency_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    fn user_id(&self) -> Option<tracing::field::DisplayValue<UserId>> {
        self.user.0.get().copied().map(tracing::field::display)
    }

    fn completed(mut self, status: u16) {
        self.logged = true;
        tracing::info!(
            target: "taskflow::access",
            request_id = %self.request_id,
            method = self.method,
            route = %self.route,
            status,
            latency_ms = self.latency_ms(),
            user_id = self.user_id(),
            "request"
        );
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if !self.logged {
            tracing::info!(
                target: "taskflow::access",
                request_id = %self.request_id,
                method = self.method,
                route = %self.route,
                cancelled = true,
                latency_ms = self.latency_ms(),
                user_id = self.user_id(),
                "request cancelled"
            );
        }
    }
}

/// Logs one line per request; see the module documentation for the fields.
pub async fn access_log(mut req: Request, next: Next) -> Response {
    let user = UserSlot::default();
    req.extensions_mut().insert(user.clone());
    let entry = Entry {
        start: Instant::now(),
        request_id: current_request_id(),
        method: method_label(req.method()),
        route: route_label(&req),
        user,
        logged: false,
    };
    let response = next.run(req).await;
    entry.completed(response.status().as_u16());
    response
}
