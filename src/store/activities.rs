use crate::{
    Activity, ActivityId, Backend, Error, Result, Store, TenantId, UserId, UserStats,
    backend::rows::ActivityRow, clock, validate,
};

use super::convert::stored_count;

impl<B: Backend> Store<B> {
    /// Stores `activity` in `tenant` (its `tenant_id` field is ignored and set from
    /// `tenant`). Returns `activity.id`.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name or type, or a negative or non-finite distance
    /// or duration; [`Error::Conflict`] when the id is taken; [`Error::NotFound`] when the
    /// tenant or user does not exist.
    pub async fn create_activity(
        &self,
        tenant: TenantId,
        activity: &Activity,
    ) -> Result<ActivityId> {
        self.observe("create_activity", async move {
            validate::name("name", &activity.name)?;
            validate::name("activity_type", &activity.activity_type)?;
            validate::non_negative_f64("distance", activity.distance)?;
            validate::non_negative_i64("duration", activity.duration)?;
            validate::timestamp("start_date", activity.start_date)?;
            validate::timestamp("created_at", activity.created_at)?;
            validate::timestamp("updated_at", activity.updated_at)?;
            let row = ActivityRow {
                id: activity.id,
                tenant_id: tenant,
                user_id: activity.user_id,
                name: activity.name.clone(),
                activity_type: activity.activity_type.clone(),
                distance: activity.distance,
                duration: activity.duration,
                start_date: activity.start_date.into(),
                created_at: activity.created_at.into(),
                updated_at: activity.updated_at.into(),
            };
            B::insert_activity(&self.pool, &row)
                .await
                .map_err(Error::on_write("activity", "tenant or user"))?;
            Ok(activity.id)
        })
        .await
    }

    /// The activity with this id in `tenant`, unless soft-deleted. An activity of another
    /// tenant is not found.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn get_activity(&self, tenant: TenantId, id: ActivityId) -> Result<Option<Activity>> {
        self.observe("get_activity", async move {
            Ok(B::select_activity(&self.pool, tenant, id)
                .await?
                .map(activity_from_row))
        })
        .await
    }

    /// The user's activities in `tenant`, newest `start_date` first, at most `limit`;
    /// soft-deleted ones excluded.
    ///
    /// Reads from a healthy read replica when there is one (it may trail the primary by up
    /// to [`StoreConfig::read_max_lag`](crate::StoreConfig::read_max_lag)), else from the
    /// primary; a replica that fails the read is never the caller's error.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn get_user_activities(
        &self,
        tenant: TenantId,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<Activity>> {
        self.observe("get_user_activities", async move {
            Ok(self
                .read_tolerating_lag(|pool| async move {
                    B::select_user_activities(&pool, tenant, user, i64::from(limit)).await
                })
                .await?
                .into_iter()
                .map(activity_from_row)
                .collect())
        })
        .await
    }

    /// Totals over the user's activities in `tenant` (one aggregate query; soft-deleted
    /// ones excluded). A user with no activities gets zeros and `None`s.
    ///
    /// Reads from a healthy read replica when there is one (it may trail the primary by up
    /// to [`StoreConfig::read_max_lag`](crate::StoreConfig::read_max_lag)), else from the
    /// primary; a replica that fails the read is never the caller's error.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn get_user_stats(&self, tenant: TenantId, user: UserId) -> Result<UserStats> {
        self.observe("get_user_stats", async move {
            let row = self
                .read_tolerating_lag(|pool| async move {
                    B::select_user_stats(&pool, tenant, user).await
                })
                .await?;
            Ok(UserStats {
                total_activities: stored_count("total_activities", row.total_activities)?,
                total_distance: row.total_distance.unwrap_or(0.0),
                total_time: row.total_time.unwrap_or(0),
                avg_distance: row.avg_distance.unwrap_or(0.0),
                first_activity: row.first_activity.map(Into::into),
                last_activity: row.last_activity.map(Into::into),
            })
        })
        .await
    }

    /// Soft-deletes the activity: it disappears from reads and stats but stays in the
    /// table. Returns whether an activity of `tenant` was deleted by this call.
    ///
    /// Runs on the primary.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn delete_activity(&self, tenant: TenantId, id: ActivityId) -> Result<bool> {
        self.observe("delete_activity", async move {
            Ok(B::soft_delete_activity(&self.pool, tenant, id, clock::now().into()).await? > 0)
        })
        .await
    }
}

fn activity_from_row(row: ActivityRow) -> Activity {
    Activity {
        id: row.id,
        tenant_id: row.tenant_id,
        user_id: row.user_id,
        name: row.name,
        activity_type: row.activity_type,
        distance: row.distance,
        duration: row.duration,
        start_date: row.start_date.into(),
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    }
}
