//! A long pass shows progress: a bar on a terminal, a log line every 10 seconds otherwise.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinHandle;

use super::notices::RecordNotices;

/// How often a pass without a terminal logs its progress.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Counters the pass updates as it goes.
#[derive(Debug)]
pub struct Progress {
    read: AtomicU64,
    sent: AtomicU64,
    to_send: AtomicU64,
    sending_since: std::sync::Mutex<Option<Instant>>,
    /// The pass's lines about single records, bounded.
    pub notices: RecordNotices,
}

impl Progress {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            read: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            to_send: AtomicU64::new(0),
            sending_since: std::sync::Mutex::new(None),
            notices: RecordNotices::default(),
        })
    }

    pub fn read_one(&self) {
        self.read_many(1);
    }

    pub fn read_many(&self, records: u64) {
        self.read.fetch_add(records, Ordering::Relaxed);
    }

    pub fn sent_one(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Sending starts, with `queue` records to send.
    pub fn sending(&self, queue: u64) {
        self.to_send.store(queue, Ordering::Relaxed);
        *self.sending_since.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// `read 120000 records, sent 340 of 1000 (12.3/s, about 54s left)`.
    pub fn line(&self) -> String {
        let read = self.read.load(Ordering::Relaxed);
        let since = *self.sending_since.lock().unwrap_or_else(|p| p.into_inner());
        let Some(since) = since else {
            return format!("read {read} records");
        };
        let sent = self.sent.load(Ordering::Relaxed);
        let total = self.to_send.load(Ordering::Relaxed).max(sent);
        let rate = sent as f64 / since.elapsed().as_secs_f64().max(0.001);
        let left = if rate > 0.0 {
            let secs = ((total - sent) as f64 / rate).round() as u64;
            format!(
                ", about {} left",
                humantime::format_duration(Duration::from_secs(secs))
            )
        } else {
            String::new()
        };
        format!("read {read} records, sent {sent} of {total} ({rate:.1}/s{left})")
    }
}

/// Shows progress until dropped.
pub struct Reporter {
    task: JoinHandle<()>,
    bar: Option<ProgressBar>,
}

impl Reporter {
    /// A bar when `terminal`, else a log line every 10 seconds.
    pub fn start(progress: Arc<Progress>, terminal: bool) -> Self {
        if terminal {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
                bar.set_style(style);
            }
            let shown = bar.clone();
            let task = tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(200));
                loop {
                    tick.tick().await;
                    shown.set_message(progress.line());
                    shown.tick();
                }
            });
            Self {
                task,
                bar: Some(bar),
            }
        } else {
            let task = tokio::spawn(async move {
                let mut tick =
                    tokio::time::interval_at(tokio::time::Instant::now() + LOG_EVERY, LOG_EVERY);
                loop {
                    tick.tick().await;
                    tracing::info!("progress: {}", progress.line());
                }
            });
            Self { task, bar: None }
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_what_was_read_and_sent() {
        let p = Progress::new();
        for _ in 0..3 {
            p.read_one();
        }
        assert_eq!(p.line(), "read 3 records");
        p.sending(10);
        p.sent_one();
        let line = p.line();
        assert!(line.starts_with("read 3 records, sent 1 of 10 ("), "{line}");
        assert!(line.contains("left"), "{line}");
    }
}
