//! Sending the queue (SPEC §5): at most `api.concurrency` in flight, paced, retried, and each
//! answer recorded as it arrives.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use super::config::PassConfig;
use super::lane::Lane;
use super::notices::record_line;
use super::pace::Pacer;
use super::progress::Progress;
use super::retry::{Next, RetryPolicy};
use crate::client::{BlueTapeClient, Endpoint, Outcome};
use crate::source::timestamp::now_ms;
use crate::store::{
    Attempt, PassCounts, QueueCursor, Queued, Request, SendRecord, SendResult, Store,
};

use self::writer::{WriterFailed, spawn_writer};
use super::PassError;
use super::report::{RequestCounts, StopReason};

mod writer;
/// What sending came to.
#[derive(Debug, Default)]
pub(super) struct SendCounts {
    /// Created, exists, updated, rejected by BlueTape, failed.
    pub(super) counts: PassCounts,
    /// Records in a row that exhausted their retries.
    pub(super) exhausted_in_a_row: u32,
    pub(super) requests: RequestCounts,
    pub(super) stop: Option<StopReason>,
    /// Sent records whose answer the store kept.
    pub(super) kept: u64,
}

/// What a send holds: its place among the requests in flight, and among the records sent whose
/// answer is not yet committed; the writer gives that one back after its commit.
struct Slot {
    _in_flight: OwnedSemaphorePermit,
    sent: OwnedSemaphorePermit,
}

/// A send's result on its way to the store.
struct Unrecorded {
    record: SendRecord,
    /// Its place among the sent records whose answer is not committed yet.
    sent: OwnedSemaphorePermit,
}

/// What every in-flight send shares.
struct Sender {
    pass: i64,
    lane: Lane,
    progress: Arc<Progress>,
    client: BlueTapeClient,
    /// Where the lane's records go.
    endpoint: Endpoint,
    policy: RetryPolicy,
    /// `retry.stop_after`: records in a row that exhaust their retries stop the pass.
    stop_after: u32,
    pacer: Pacer,
    results: mpsc::Sender<Unrecorded>,
    counts: Mutex<SendCounts>,
    stop: watch::Sender<bool>,
}

impl Sender {
    fn counts(&self) -> std::sync::MutexGuard<'_, SendCounts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// The first reason to stop wins; nothing new starts after it.
    fn stop(&self, reason: StopReason) {
        let mut counts = self.counts();
        if counts.stop.is_none() {
            match &reason {
                StopReason::Shutdown => {
                    info!("stopping: no new requests, waiting for those in flight")
                }
                other => warn!("stopping the pass: {other}"),
            }
            counts.stop = Some(reason);
        }
        drop(counts);
        self.stop.send_replace(true);
    }

    /// Counts an answer that shows the API works.
    fn answered(&self, count: impl FnOnce(&mut SendCounts)) {
        let mut c = self.counts();
        count(&mut c);
        c.exhausted_in_a_row = 0;
    }

    /// Sends one record until it is answered, retries run out, or the pass stops.
    async fn send(self: Arc<Self>, queued: Queued, slot: Slot) {
        let id = queued.id.as_str();
        let mut stop = self.stop.subscribe();
        let mut attempts = 0u32;
        let mut last_status = None;
        let mut last_reason = String::new();
        let mut history = Vec::new();
        let noun = self.lane.noun();
        // An update of a record gone from BlueTape becomes a create.
        let mut request = queued.request;
        let update_body =
            match (request == Request::Update).then(|| self.lane.update_body(&queued.body)) {
                None => String::new(),
                Some(Ok(body)) => body,
                Some(Err(e)) => {
                    let reason = format!(
                        "the store's copy of this {noun} cannot be read ({e}): it is sent again \
                     once the accounting system changes it"
                    );
                    record_line!(
                        self.progress.notices,
                        "not sent as updates",
                        warn!(id, "changed {noun} not sent as an update: {reason}")
                    );
                    let result = SendResult::Rejected { reason };
                    self.record(&queued, 0, None, result, history, slot).await;
                    return;
                }
            };
        loop {
            if !self.stopped() {
                tokio::select! {
                    () = self.pacer.ready() => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            }
            if self.stopped() {
                if attempts > 0 {
                    let result = SendResult::Unfinished {
                        reason: last_reason,
                    };
                    self.record(&queued, attempts, last_status, result, history, slot)
                        .await;
                }
                return;
            }
            attempts += 1;
            let at = &self.endpoint;
            let answer = match request {
                Request::Create => self.client.create(at, queued.body.clone()).await,
                Request::Update => self.client.update(at, id, update_body.clone()).await,
                Request::Cancel => self.client.cancel(at, id).await,
            };
            last_status = answer.status.or(last_status);
            self.counts().requests.count(answer.status);
            history.push(Attempt {
                at_ms: now_ms(),
                status: answer.status,
                outcome: answer.outcome.label(),
                reason: answer.outcome.reason().map(redact),
            });
            if let Outcome::Created {
                sign_up_url: None, ..
            } = &answer.outcome
            {
                record_line!(
                    self.progress.notices,
                    "sign-up URLs dropped",
                    warn!(
                        id,
                        "created, but its signUpUrl was not kept: not an https:// URL without \
                         control characters"
                    )
                );
            }
            let unexpected = answer.is_unexpected();
            let outcome = match answer.outcome {
                Outcome::Retry { reason, after } => {
                    let reason = redact(&reason);
                    if unexpected {
                        record_line!(
                            self.progress.notices,
                            "unexpected answers",
                            warn!(
                                id,
                                "unexpected answer from BlueTape, treated as transient: {reason}"
                            )
                        );
                    }
                    Outcome::Retry { reason, after }
                }
                other => other,
            };
            let update = request == Request::Update;
            let result = match self.policy.next(attempts, outcome, update, now_ms()) {
                Next::Record(result) => result,
                Next::Stop(reason) => {
                    self.stop(reason);
                    return;
                }
                Next::Recreate => {
                    record_line!(
                        self.progress.notices,
                        "created again",
                        info!(id, "{noun} no longer in BlueTape: creating it again")
                    );
                    request = Request::Create;
                    attempts -= 1;
                    continue;
                }
                Next::Retry { wait, hold, reason } => {
                    if hold {
                        // The server asked everyone to wait: hold the whole pass.
                        self.pacer.hold_until(tokio::time::Instant::now() + wait);
                    }
                    debug!(
                        id,
                        attempt = attempts,
                        "transient failure ({reason}), retrying in {wait:?}"
                    );
                    self.counts().requests.retried += 1;
                    last_reason = reason;
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                    continue;
                }
            };
            self.count(id, attempts, &result);
            self.record(&queued, attempts, last_status, result, history, slot)
                .await;
            return;
        }
    }

    /// Counts an answered record, and stops the pass when too many in a row failed.
    fn count(&self, id: &str, attempts: u32, result: &SendResult) {
        let noun = self.lane.noun();
        match result {
            SendResult::Created { .. } => {
                self.answered(|c| c.counts.created += 1);
                debug!(id, "{noun} created");
            }
            SendResult::Exists => {
                self.answered(|c| c.counts.exists += 1);
                debug!(id, "{noun} already in BlueTape");
            }
            SendResult::Updated { .. } => {
                self.answered(|c| c.counts.updated += 1);
                debug!(id, "{noun} updated");
            }
            SendResult::Accepted { .. } => {
                self.answered(|c| c.counts.created += 1);
                debug!(id, "{noun} created");
            }
            SendResult::Cancelled => {
                self.answered(|c| c.counts.cancelled += 1);
                debug!(id, "{noun} cancelled");
            }
            SendResult::Waiting { reason, .. } => {
                self.answered(|c| c.counts.waiting += 1);
                record_line!(
                    self.progress.notices,
                    "waiting",
                    info!(id, "{noun} waits: {}", redact(reason))
                );
            }
            SendResult::Refused { reason } => {
                self.answered(|c| c.counts.refused += 1);
                record_line!(
                    self.progress.notices,
                    "refused",
                    warn!(
                        id,
                        "BlueTape refused to change the {noun}: {}",
                        redact(reason)
                    )
                );
            }
            SendResult::Rejected { reason } => {
                self.answered(|c| c.counts.rejected += 1);
                record_line!(
                    self.progress.notices,
                    "rejected",
                    warn!(id, "{noun} rejected by BlueTape: {}", redact(reason))
                );
            }
            SendResult::Failed { reason, .. } => {
                record_line!(
                    self.progress.notices,
                    "failed",
                    warn!(
                        id,
                        attempts, "{noun} failed after {attempts} attempts: {reason}"
                    )
                );
                let give_up = {
                    let mut c = self.counts();
                    c.counts.failed += 1;
                    c.exhausted_in_a_row += 1;
                    c.exhausted_in_a_row >= self.stop_after
                };
                if give_up {
                    self.stop(StopReason::Unavailable(reason.clone()));
                }
            }
            SendResult::Unfinished { .. } => {}
        }
    }

    async fn record(
        &self,
        queued: &Queued,
        attempts: u32,
        last_status: Option<u16>,
        result: SendResult,
        history: Vec<Attempt>,
        slot: Slot,
    ) {
        let record = SendRecord {
            id: queued.id.clone(),
            pass: self.pass,
            history,
            request: queued.request,
            attempts,
            last_status,
            at_ms: now_ms(),
            result,
        };
        self.progress.sent_one();
        let unrecorded = Unrecorded {
            record,
            sent: slot.sent,
        };
        if self.results.send(unrecorded).await.is_err() {
            // The writer returns its error at the end of the pass; send nothing more.
            self.stop(StopReason::StoreFailed);
        }
    }
}

/// Hides what looks like an email or phone number in a server's message before it is logged.
fn redact(message: &str) -> String {
    message
        .split(' ')
        .map(|word| {
            let digits = word.bytes().filter(u8::is_ascii_digit).count();
            if word.contains('@') || digits >= 7 {
                "***"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sends the queue with `api.concurrency` in flight; results are recorded by a writer thread
/// as they arrive, in group commits.
pub(super) async fn send_queue(
    pass: i64,
    store: &mut Store,
    config: &PassConfig,
    lane: &Lane,
    client: BlueTapeClient,
    progress: &Arc<Progress>,
    shutdown: impl Future<Output = ()>,
) -> Result<SendCounts, PassError> {
    let source = lane.name().to_owned();
    let queue = store.queue_counts(&source)?;
    progress.sending(queue.pending + queue.failed);
    let concurrency = config.api.concurrency;
    // After a crash at most 2 x concurrency records may be sent again (SPEC §4): no record
    // starts while that many were sent and their answers are not committed.
    let unrecorded = Arc::new(Semaphore::new(2 * concurrency));
    let (results_tx, results_rx) = mpsc::channel::<Unrecorded>(2 * concurrency);
    let writer = spawn_writer(
        store.path().to_owned(),
        source.clone(),
        results_rx,
        Arc::clone(&unrecorded),
    );
    let (stop, _) = watch::channel(false);
    let sender = Arc::new(Sender {
        pass,
        lane: lane.clone(),
        progress: Arc::clone(progress),
        endpoint: client.endpoint(lane.rules().resource()),
        client,
        policy: RetryPolicy::new(&lane.retry),
        stop_after: lane.retry.stop_after,
        pacer: Pacer::new(config.api.max_requests_per_second),
        results: results_tx,
        counts: Mutex::new(SendCounts::default()),
        stop,
    });
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut shutdown_seen = false;
    let mut cursor = QueueCursor::new(now_ms(), lane.updates);

    'queue: loop {
        let page = store.next_queue_page(&source, &mut cursor, 256)?;
        if page.is_empty() {
            break;
        }
        for queued in page {
            let slot = async {
                let sent = unrecorded.clone().acquire_owned().await?;
                let in_flight = permits.clone().acquire_owned().await?;
                Ok::<_, tokio::sync::AcquireError>(Slot {
                    _in_flight: in_flight,
                    sent,
                })
            };
            let slot = tokio::select! {
                slot = slot => match slot {
                    Ok(slot) => slot,
                    // The writer closed the door: results can no longer be kept.
                    Err(_) => {
                        sender.stop(StopReason::StoreFailed);
                        break 'queue;
                    }
                },
                () = &mut shutdown, if !shutdown_seen => {
                    shutdown_seen = true;
                    sender.stop(StopReason::Shutdown);
                    break 'queue;
                }
            };
            if sender.stopped() {
                break 'queue;
            }
            tasks.spawn(sender.clone().send(queued, slot));
            while let Some(done) = tasks.try_join_next() {
                if let Err(e) = done {
                    error!("a send task failed: {e}");
                }
            }
        }
    }
    loop {
        tokio::select! {
            done = tasks.join_next() => match done {
                None => break,
                Some(Err(e)) => error!("a send task failed: {e}"),
                Some(Ok(())) => {}
            },
            () = &mut shutdown, if !shutdown_seen => {
                shutdown_seen = true;
                sender.stop(StopReason::Shutdown);
            }
        }
    }
    let mut counts = std::mem::take(&mut *sender.counts());
    drop(sender);
    let written = writer
        .await
        .map_err(|e| PassError::Internal(e.to_string()))?;
    match written {
        Ok(kept) => {
            counts.kept = kept;
            Ok(counts)
        }
        Err(WriterFailed {
            error,
            kept,
            unkept,
        }) => Err(PassError::ResultsNotKept {
            error,
            kept,
            unkept,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_emails_and_numbers() {
        assert_eq!(
            redact("400: email ada@example.com or phone +16265550100 invalid"),
            "400: email *** or phone *** invalid"
        );
        assert_eq!(redact("503 Service Unavailable"), "503 Service Unavailable");
    }
}
