//! Whole-program reports (`channelMetrics`, `atRiskPartners`) take turns on each replica.
//!
//! Each holds the facts of every partner in the program while it computes (about 6-7 MB at
//! 20,000 partners) and keeps a core busy. Unbounded, 32 at once held 305 MB and answered
//! no more than 4 at once did (35 reports/s at 200,000 registrations on two cores). So at
//! most as many run at once as there are cores, and never fewer than two; the others wait
//! for a turn here, holding nothing yet. A wait counts in the request's time limit like any
//! other.

use std::future::Future;
use std::sync::LazyLock;

use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

static TURNS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(turns()));

/// How many whole-program reports run at once.
fn turns() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

/// Runs `report` once a turn is free.
pub async fn in_turn<T>(report: impl Future<Output = AppResult<T>>) -> AppResult<T> {
    let _turn = TURNS.acquire().await.map_err(AppError::internal)?;
    report.await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_reports_run_at_once_than_there_are_turns() {
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let reports = (0..4 * turns()).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            tokio::spawn(in_turn(async move {
                let now = running.fetch_add(1, SeqCst) + 1;
                most.fetch_max(now, SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                running.fetch_sub(1, SeqCst);
                Ok(())
            }))
        });
        for report in futures_util::future::join_all(reports).await {
            report.unwrap().unwrap();
        }
        assert_eq!(most.load(SeqCst), turns());
    }
}
