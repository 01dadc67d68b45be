//! File work on a thread of its own, awaited under a deadline.
//!
//! Not the runtime's blocking pool: a thread stuck in the kernel (a hung
//! NFS server) cannot be cancelled, and the runtime waits for its pool's
//! threads when it shuts down, so one stuck read would keep herald from
//! ever exiting. A thread of its own is simply left behind.

use std::time::Duration;

use tokio::sync::oneshot;

/// File work that did not finish, or could not run.
#[derive(Debug, thiserror::Error)]
pub enum Stalled {
    /// The deadline passed; the work may still finish later, unobserved.
    #[error("cannot {what} within {deadline:?}: the file system does not answer")]
    Deadline {
        /// What was being done, e.g. "read the configuration".
        what: &'static str,
        /// How long it had.
        deadline: Duration,
    },
    /// No thread could be started, or it panicked.
    #[error("cannot {what}: {why}")]
    Thread {
        /// What was to be done.
        what: &'static str,
        /// Why it did not run to its end.
        why: String,
    },
}

/// Runs `work` on a new thread and waits for its result at most
/// `deadline`, so that the event loop only waits on a channel however long
/// the file system takes.
pub async fn off_loop<T, F>(what: &'static str, deadline: Duration, work: F) -> Result<T, Stalled>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    start(what, work)?.wait(deadline).await
}

/// Starts `work` on a new thread; its result is then awaited with
/// [`Pending::wait`], as often as its deadline passes.
pub fn start<T, F>(what: &'static str, work: F) -> Result<Pending<T>, Stalled>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (done, result) = oneshot::channel();
    std::thread::Builder::new()
        .name("herald-fs".to_string())
        .spawn(move || {
            // Nobody listens any more once the waiter has given up.
            let _ = done.send(work());
        })
        .map_err(|err| Stalled::Thread {
            what,
            why: err.to_string(),
        })?;
    Ok(Pending { what, result })
}

/// Work running on its own thread.
#[derive(Debug)]
pub struct Pending<T> {
    what: &'static str,
    result: oneshot::Receiver<T>,
}

impl<T> Pending<T> {
    /// Waits at most `deadline` for the result. After
    /// [`Stalled::Deadline`] the work still runs and may be waited on
    /// again; after anything else it is over.
    pub async fn wait(&mut self, deadline: Duration) -> Result<T, Stalled> {
        let what = self.what;
        match tokio::time::timeout(deadline, &mut self.result).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(Stalled::Thread {
                what,
                why: "the thread doing it panicked".to_string(),
            }),
            Err(_) => Err(Stalled::Deadline { what, deadline }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn work_that_outlives_its_deadline_does_not_hold_up_the_caller() {
        let start = std::time::Instant::now();
        let result = off_loop("wait", Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_secs(2));
        })
        .await;
        assert!(matches!(result, Err(Stalled::Deadline { .. })));
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn overrunning_work_can_be_waited_on_again_until_it_ends() {
        let mut pending = start("wait", || {
            std::thread::sleep(Duration::from_millis(300));
            7
        })
        .unwrap();
        let first = pending.wait(Duration::from_millis(10)).await;
        assert!(matches!(first, Err(Stalled::Deadline { .. })));
        assert_eq!(pending.wait(Duration::from_secs(5)).await.unwrap(), 7);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_result_of_quick_work_comes_back() {
        let value = off_loop("add", Duration::from_secs(5), || 2 + 2).await;
        assert_eq!(value.unwrap(), 4);
    }
}
