//! Activities: workouts, scoped to a tenant.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{ActivityId, TenantId, UserId};
use crate::clock;

/// A workout of a user within a tenant.
#[derive(Clone, Debug, PartialEq)]
pub struct Activity {
    /// The activity's id.
    pub id: ActivityId,
    /// The tenant it belongs to. `Store::create_activity` sets it from its `tenant`
    /// argument; [`Activity::new`] leaves it nil.
    pub tenant_id: TenantId,
    /// The user who did it.
    pub user_id: UserId,
    /// Title (1 to 255 characters).
    pub name: String,
    /// Kind of activity, e.g. `run` or `ride` (1 to 255 characters).
    pub activity_type: String,
    /// Distance in meters (not negative).
    pub distance: f64,
    /// Duration in seconds (not negative).
    pub duration: i64,
    /// When the activity started.
    pub start_date: OffsetDateTime,
    /// When it was stored.
    pub created_at: OffsetDateTime,
    /// When it was last changed.
    pub updated_at: OffsetDateTime,
}

impl Activity {
    /// A new activity with a fresh id, created now; the tenant is set when it is stored.
    #[must_use]
    pub fn new(
        user_id: UserId,
        name: &str,
        activity_type: &str,
        distance: f64,
        duration: i64,
        start_date: OffsetDateTime,
    ) -> Self {
        let now = clock::now();
        Self {
            id: ActivityId::new(),
            tenant_id: TenantId::from(Uuid::nil()),
            user_id,
            name: name.to_owned(),
            activity_type: activity_type.to_owned(),
            distance,
            duration,
            start_date: clock::truncate(start_date),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Aggregates over a user's activities in one tenant (soft-deleted ones excluded).
#[derive(Clone, Debug, PartialEq)]
pub struct UserStats {
    /// Number of activities.
    pub total_activities: u64,
    /// Sum of distances, meters.
    pub total_distance: f64,
    /// Sum of durations, seconds.
    pub total_time: i64,
    /// Mean distance, meters (0 when there are no activities).
    pub avg_distance: f64,
    /// Earliest start date.
    pub first_activity: Option<OffsetDateTime>,
    /// Latest start date.
    pub last_activity: Option<OffsetDateTime>,
}
