use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::{
    backend::{
        TenantQueries,
        codec::Timestamp,
        rows::{DeletedTenantRow, TenantRow},
    },
    model::{TenantId, UserId},
};

impl TenantQueries for Sqlite {
    async fn insert_tenant(pool: &SqlitePool, row: &TenantRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO tenants (id, name, slug, domain, plan, owner_user_id, is_active,
                created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
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
        pool: &SqlitePool,
        id: TenantId,
    ) -> sqlx::Result<Option<TenantRow>> {
        sqlx::query_as!(
            TenantRow,
            r#"SELECT id AS "id: TenantId", name, slug, domain, plan,
                owner_user_id AS "owner_user_id: UserId", is_active,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp"
             FROM tenants WHERE id = ?1"#,
            id
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_tenant_by_slug(
        pool: &SqlitePool,
        slug: &str,
    ) -> sqlx::Result<Option<TenantRow>> {
        sqlx::query_as!(
            TenantRow,
            r#"SELECT id AS "id: TenantId", name, slug, domain, plan,
                owner_user_id AS "owner_user_id: UserId", is_active,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp"
             FROM tenants WHERE slug = ?1"#,
            slug
        )
        .fetch_optional(pool)
        .await
    }

    async fn update_tenant(pool: &SqlitePool, row: &TenantRow) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE tenants SET name = ?2, slug = ?3, domain = ?4, plan = ?5, owner_user_id = ?6,
                is_active = ?7, updated_at = ?8
             WHERE id = ?1",
            row.id,
            row.name,
            row.slug,
            row.domain,
            row.plan,
            row.owner_user_id,
            row.is_active,
            row.updated_at,
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn select_tenant_slugs_by_owner(
        pool: &SqlitePool,
        owner: UserId,
    ) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar!(
            "SELECT slug FROM tenants WHERE owner_user_id = ?1 ORDER BY slug",
            owner
        )
        .fetch_all(pool)
        .await
    }

    async fn delete_tenant(
        conn: &mut SqliteConnection,
        id: TenantId,
    ) -> sqlx::Result<Option<DeletedTenantRow>> {
        // The caller's write transaction holds SQLite's write lock: nothing can be added
        // between the two statements.
        let activities = sqlx::query!("DELETE FROM activities WHERE tenant_id = ?1", id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        let slug = sqlx::query_scalar!("DELETE FROM tenants WHERE id = ?1 RETURNING slug", id)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(slug.map(|slug| DeletedTenantRow { slug, activities }))
    }
}
