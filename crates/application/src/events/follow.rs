//! Opening a stream of live events: resume from `Last-Event-ID` through the feed, then the pushed events.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::stream::{self, BoxStream, Stream, StreamExt as _, TryStreamExt as _};
use taskflow_domain::EventId;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::FeedPosition;

use super::{LiveEvent, LiveEvents, OnSlow, Subscription, Viewer};
use crate::error::AppError;

/// The events of one stream, oldest first: first those missed since `Last-Event-ID` (read from the feed), then the
/// live ones. It ends when the hub ends it (token expiry, deleted user, shutdown, too slow), and right after the
/// first error (the client resumes with the last id it got).
pub struct EventStream {
    inner: BoxStream<'static, Result<Arc<LiveEvent>, AppError>>,
    failed: bool,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").field("failed", &self.failed).finish_non_exhaustive()
    }
}

impl Stream for EventStream {
    type Item = Result<Arc<LiveEvent>, AppError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        let next = self.inner.poll_next_unpin(cx);
        if let Poll::Ready(Some(Err(_))) = next {
            self.failed = true;
        }
        next
    }
}

impl Stream for Subscription {
    type Item = Arc<LiveEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_next_unpin(cx)
    }
}

impl LiveEvents {
    /// Opens a stream of the events `viewer` may see (an admin: all; a user: their own tasks'), starting after the
    /// event `last_event_id` when given (the `Last-Event-ID` of a client that reconnects), else from now on.
    /// `on_slow` closes the stream's connection if the hub drops it as too slow.
    ///
    /// # Errors
    /// [`AppError::Validation`] (`Last-Event-ID`) for an id that is not a published event's;
    /// [`AppError::Busy`] while the hub is starting or shut down, or when it holds as many streams as it may;
    /// [`AppError::TooMany`] when the user holds as many as they may; [`AppError::Unavailable`] when the feed cannot
    /// be read.
    #[tracing::instrument(name = "events.open", skip_all, fields(user_id = %viewer.actor.user_id))]
    pub async fn open(
        self: &Arc<Self>,
        viewer: Viewer,
        last_event_id: Option<&str>,
        on_slow: Option<OnSlow>,
    ) -> Result<EventStream, AppError> {
        let resume = match last_event_id {
            None => None,
            Some(raw) => Some(self.resume_point(raw).await?),
        };
        // While no stream is open the hub reads nothing and may stand behind the feed: the first stream starts from
        // where the feed stands now.
        let head = if self.open_streams() == 0 { Some(self.feed.head().await?) } else { None };
        let subscription = self.subscribe(viewer, on_slow, head)?;
        let registered = subscription.at;
        let owner = match viewer.actor.task_scope() {
            TaskScope::All => None,
            TaskScope::Owner(owner) => Some(owner),
        };
        // Missed: (resume, registered], read from the feed page by page as the client takes them. After that, the
        // pushed events, all after `registered`; a client that resumes ahead of this instance's hub (it read another
        // instance's stream) skips those it already has.
        let replay = match resume {
            Some(from) if from < registered => self.replay(from, registered, owner),
            _ => stream::empty().boxed(),
        };
        let seen = resume.unwrap_or(FeedPosition::START);
        let live = subscription.filter(move |e| std::future::ready(e.position > seen)).map(Ok);
        Ok(EventStream { inner: replay.chain(live).boxed(), failed: false })
    }

    /// The feed position of the event named by a `Last-Event-ID`.
    async fn resume_point(&self, raw: &str) -> Result<FeedPosition, AppError> {
        let refused = || AppError::invalid("Last-Event-ID", "is not the id of an event of this stream");
        let id = uuid::Uuid::parse_str(raw.trim()).map(EventId::from_uuid).map_err(|_| refused())?;
        self.feed.position_of(id).await?.ok_or_else(refused)
    }

    /// The events of `owner` (all when `None`) in `(after, until]`, a page at a time.
    fn replay(
        &self,
        after: FeedPosition,
        until: FeedPosition,
        owner: Option<taskflow_domain::UserId>,
    ) -> BoxStream<'static, Result<Arc<LiveEvent>, AppError>> {
        let feed = Arc::clone(&self.feed);
        let page = self.settings.page;
        stream::try_unfold(Some(after), move |from| {
            let feed = Arc::clone(&feed);
            async move {
                let Some(from) = from else { return Ok(None) };
                let events = feed.published(from, Some(until), owner, page).await?;
                // A short page is the last; so is one that reached `until`.
                let next = match events.last() {
                    Some((last, _)) if events.len() == page && *last < until => Some(*last),
                    _ => None,
                };
                if events.is_empty() {
                    return Ok(None);
                }
                let events: Vec<Result<Arc<LiveEvent>, AppError>> =
                    events.into_iter().map(|(p, e)| Ok(Arc::new(LiveEvent::new(p, e)))).collect();
                Ok::<_, AppError>(Some((stream::iter(events), next)))
            }
        })
        .try_flatten()
        .boxed()
    }
}
