//! The watch of `auth_changes` on a backend without notifications (SQLite, MySQL): a timer,
//! so the counter is polled.

use std::time::Duration;

use tokio::time::{Interval, MissedTickBehavior};

use super::AuthWatch;

/// A timer of period `poll` whose every tick says "compare the counter".
pub struct PollWatch(Interval);

impl PollWatch {
    /// Starts the timer; its first tick is already taken, since the caller reads the counter
    /// right after starting.
    pub(crate) async fn start(poll: Duration) -> Self {
        let mut timer = tokio::time::interval(poll);
        timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
        timer.tick().await;
        Self(timer)
    }
}

impl AuthWatch for PollWatch {
    async fn changed(&mut self) -> sqlx::Result<bool> {
        self.0.tick().await;
        Ok(false)
    }
}
