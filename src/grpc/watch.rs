//! `Watch`: a server stream of events about sessions of the caller's
//! namespace, fed by the storage layer as changes happen (no polling). The
//! first event is `resync`, carrying the storage's epoch; then `changed`
//! and `ended`. A subscriber that falls `--watch-buffer` events behind is
//! ended RESOURCE_EXHAUSTED rather than buffered without bound; the server
//! stopping ends every stream UNAVAILABLE.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::Stream;
use tonic::{Request, Response, Status};

use super::pb;
use super::pb::watch_ended::Reason;
use super::pb::watch_event::Event as Kind;
use super::service::{Caller, Rpc, SessionService};
use crate::lifecycle::Phase;
use crate::storage::watch::{Change, EndReason, Event, Scope, Subject, Subscription};

/// Most ids one Watch may list.
pub const MAX_WATCH_IDS: usize = 100_000;

/// The events of one Watch stream, produced as tonic asks for them.
pub struct Events {
    service: SessionService,
    subscription: Subscription,
    /// The first event, until it is sent.
    resync: Option<pb::WatchEvent>,
    /// Resolves once the server stops accepting requests.
    stopping: Pin<Box<dyn Future<Output = ()> + Send>>,
    finished: bool,
}

impl SessionService {
    /// Opens a Watch for the caller of `request`, counted as `Watch`.
    pub(super) fn open_watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> Result<Response<Events>, Status> {
        let started = Instant::now();
        let (caller, req) = Caller::of(request);
        let opened = self.subscribe(&caller, req);
        let subscription = match self.counted(Rpc::Watch, started, opened) {
            Ok(subscription) => subscription.into_inner(),
            Err(refused) => return Err(refused),
        };
        // Admitted above, so the caller's access is known.
        let namespace = caller
            .access()
            .map(|access| access.namespace.as_str().to_owned())
            .unwrap_or_default();
        let mut phases = self.lifecycle().subscribe();
        let stopping = Box::pin(async move {
            let _ = phases.wait_for(|p| *p == Phase::Stopping).await;
        });
        let resync = pb::WatchEvent {
            index: 0,
            handle: String::new(),
            event: Some(Kind::Resync(pb::WatchResync {
                epoch: format!("{:016x}", subscription.epoch),
                namespace,
            })),
        };
        Ok(Response::new(Events {
            service: self.clone(),
            subscription,
            resync: Some(resync),
            stopping,
            finished: false,
        }))
    }

    fn subscribe(&self, caller: &Caller, req: pb::WatchRequest) -> Result<Subscription, Status> {
        let ns = self.admitted(Rpc::Watch, false, caller)?;
        let scope = match (req.namespace, req.ids.is_empty()) {
            (true, true) => Scope::Namespace,
            (false, false) if req.ids.len() > MAX_WATCH_IDS => {
                return Err(Status::resource_exhausted(format!(
                    "a Watch lists at most {MAX_WATCH_IDS} ids ({} given); open more streams",
                    req.ids.len()
                )))
            }
            (false, false) => {
                let mut digests = Vec::with_capacity(req.ids.len());
                for (i, raw) in req.ids.into_iter().enumerate() {
                    let id = self.parse_id(ns, raw).map_err(|s| {
                        Status::invalid_argument(format!("ids[{i}]: {}", s.message()))
                    })?;
                    digests.push(id.digest_in(ns));
                }
                Scope::Sessions(digests)
            }
            (true, false) => {
                return Err(Status::invalid_argument(
                    "a Watch names ids or the whole namespace, not both",
                ))
            }
            (false, true) => {
                return Err(Status::invalid_argument(
                    "a Watch names the ids to watch, or sets namespace to watch them all",
                ))
            }
        };
        match self.store().watch(ns, scope, self.watch_buffer()) {
            Some(subscribed) => subscribed.map_err(Status::from),
            None => Err(Status::unimplemented(
                "Watch is not available on this storage backend (--backend redis): \
                 revalidate with Get instead (README, \"Storage on Redis / Valkey\")",
            )),
        }
    }
}

impl Stream for Events {
    type Item = Result<pb::WatchEvent, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        if let Some(resync) = this.resync.take() {
            return Poll::Ready(Some(Ok(resync)));
        }
        if this.stopping.as_mut().poll(cx).is_ready() {
            this.finished = true;
            return Poll::Ready(Some(Err(Status::unavailable(
                "sessiond is shutting down; reconnect to another instance and revalidate",
            ))));
        }
        match this.subscription.poll_next(cx) {
            Poll::Ready(Ok(Some(event))) => Poll::Ready(Some(Ok(event_of(event)))),
            Poll::Ready(Ok(None)) => {
                this.finished = true;
                Poll::Ready(None)
            }
            Poll::Ready(Err(overflow)) => {
                this.finished = true;
                let dropped = Status::resource_exhausted(format!(
                    "subscriber too slow: {} events were waiting for this Watch stream \
                     (--watch-buffer) and it missed the next; reconnect and revalidate",
                    overflow.buffered
                ));
                tracing::debug!("a Watch subscriber fell behind and was dropped");
                let _ =
                    this.service
                        .counted::<()>(Rpc::Watch, Instant::now(), Err(dropped.clone()));
                Poll::Ready(Some(Err(dropped)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The wire form of `event`: a namespace-wide subscription's events name
/// sessions by handle, an id subscription's by position.
fn event_of(event: Event) -> pb::WatchEvent {
    let (index, handle) = match event.subject {
        Subject::Index(i) => (i, String::new()),
        Subject::Handle(h) => (0, h.to_string()),
    };
    let kind = match event.change {
        Change::Changed { version } => Kind::Changed(pb::WatchChanged { version }),
        Change::Ended(reason) => Kind::Ended(pb::WatchEnded {
            reason: match reason {
                EndReason::Flushed => Reason::Flushed,
                EndReason::Expired => Reason::Expired,
                EndReason::Rotated => Reason::Rotated,
                EndReason::Revoked => Reason::Revoked,
            } as i32,
        }),
    };
    pb::WatchEvent {
        index,
        handle,
        event: Some(kind),
    }
}
