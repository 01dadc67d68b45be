//! Optional deadlines in `select!` loops.

use tokio::time::{sleep_until, Instant};

/// Sleeps until the deadline if there is one, else never completes, so a
/// stopped timer is simply a branch that never fires.
pub async fn sleep_opt(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
