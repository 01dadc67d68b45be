//! Bounded polling: every wait in the lab has an interval and a deadline.

use std::time::{Duration, Instant};

/// The usual poll interval.
pub const INTERVAL: Duration = Duration::from_millis(200);
/// The usual deadline for the network to settle (sessions up, routes in).
pub const SETTLE: Duration = Duration::from_secs(30);

/// Calls `probe` every `interval` until it returns `Ok` or `timeout` has
/// passed. On timeout returns the last `Err`, with the time waited.
pub fn wait_until<T>(
    timeout: Duration,
    interval: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> Result<T, String> {
    let start = Instant::now();
    loop {
        match probe() {
            Ok(value) => return Ok(value),
            Err(why) if start.elapsed() >= timeout => {
                return Err(format!("still not true after {timeout:?}: {why}"))
            }
            Err(_) => std::thread::sleep(interval),
        }
    }
}
