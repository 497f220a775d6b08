use sqlx::{MySql, MySqlConnection, MySqlPool};

use crate::{
    backend::{
        TenantQueries,
        codec::Timestamp,
        rows::{DeletedTenantRow, TenantRow},
    },
    model::{TenantId, UserId},
};

impl TenantQueries for MySql {
    async fn insert_tenant(pool: &MySqlPool, row: &TenantRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO tenants (id, name, slug, domain, plan, owner_user_id, is_active,
                created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row.id,
            row.name,
            row.slug,
            row.domain,
            row.plan,
            row.owner_user_id,
            row.is_active,
            row.created_at,
            row.updated_at,
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn select_tenant_by_id(
        pool: &MySqlPool,
        id: TenantId,
    ) -> sqlx::Result<Option<TenantRow>> {
        sqlx::query_as!(
            TenantRow,
            "SELECT id AS `id: TenantId`, name, slug, domain, plan,
                owner_user_id AS `owner_user_id: UserId`, is_active AS `is_active: bool`,
                created_at AS `created_at: Timestamp`, updated_at AS `updated_at: Timestamp`
             FROM tenants WHERE id = ?",
            id
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_tenant_by_slug(
        pool: &MySqlPool,
        slug: &str,
    ) -> sqlx::Result<Option<TenantRow>> {
        sqlx::query_as!(
            TenantRow,
            "SELECT id AS `id: TenantId`, name, slug, domain, plan,
                owner_user_id AS `owner_user_id: UserId`, is_active AS `is_active: bool`,
                created_at AS `created_at: Timestamp`, updated_at AS `updated_at: Timestamp`
             FROM tenants WHERE slug = ?",
            slug
        )
        .fetch_optional(pool)
        .await
    }

    async fn update_tenant(pool: &MySqlPool, row: &TenantRow) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE tenants SET name = ?, slug = ?, domain = ?, plan = ?, owner_user_id = ?,
                is_active = ?, updated_at = ?
             WHERE id = ?",
            row.name,
            row.slug,
            row.domain,
            row.plan,
            row.owner_user_id,
            row.is_active,
            row.updated_at,
            row.id,
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn select_tenant_slugs_by_owner(
        pool: &MySqlPool,
        owner: UserId,
    ) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar!(
            "SELECT slug FROM tenants WHERE owner_user_id = ? ORDER BY slug",
            owner
        )
        .fetch_all(pool)
        .await
    }

    async fn delete_tenant(
        conn: &mut MySqlConnection,
        id: TenantId,
    ) -> sqlx::Result<Option<DeletedTenantRow>> {
        // Three statements in the caller's transaction. The tenant is locked first: an
        // activity's insert takes a shared lock on its tenant's row (the foreign key
        // check), so none can be added between the count and the tenant's deletion. The
        // activities are deleted by their own statement, not ON DELETE CASCADE, to count
        // them.
        let Some(slug) =
            sqlx::query_scalar!("SELECT slug FROM tenants WHERE id = ? FOR UPDATE", id)
                .fetch_optional(&mut *conn)
                .await?
        else {
            return Ok(None);
        };
        // Through the tenant's index, never a table scan: an insert that is waiting for the
        // tenant lock above has already written its primary-key record (InnoDB checks the
        // foreign key when it reaches the tenant_id index), and a scan that met that record
        // would wait for it in turn: a deadlock (1213) on every concurrent insert. The index
        // entry comes only after the check, so the index never leads to that record.
        let activities = sqlx::query!(
            "DELETE a FROM activities AS a
                FORCE INDEX (idx_activities_tenant_id_user_id_start_date)
             WHERE a.tenant_id = ?",
            id
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
        sqlx::query!("DELETE FROM tenants WHERE id = ?", id)
            .execute(&mut *conn)
            .await?;
        Ok(Some(DeletedTenantRow { slug, activities }))
    }
}
