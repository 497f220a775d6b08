use sqlx::{PgConnection, PgPool, Postgres};

use crate::{
    backend::{
        TenantQueries,
        codec::Timestamp,
        rows::{DeletedTenantRow, TenantRow},
    },
    model::{TenantId, UserId},
};

impl TenantQueries for Postgres {
    async fn insert_tenant(pool: &PgPool, row: &TenantRow) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO tenants (id, name, slug, domain, plan, owner_user_id, is_active,
                created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            row.id as _,
            row.name,
            row.slug,
            row.domain,
            row.plan,
            row.owner_user_id as _,
            row.is_active,
            row.created_at as _,
            row.updated_at as _,
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn select_tenant_by_id(pool: &PgPool, id: TenantId) -> sqlx::Result<Option<TenantRow>> {
        sqlx::query_as!(
            TenantRow,
            r#"SELECT id AS "id: TenantId", name, slug, domain, plan,
                owner_user_id AS "owner_user_id: UserId", is_active,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp"
             FROM tenants WHERE id = $1"#,
            id as _
        )
        .fetch_optional(pool)
        .await
    }

    async fn select_tenant_by_slug(pool: &PgPool, slug: &str) -> sqlx::Result<Option<TenantRow>> {
        sqlx::query_as!(
            TenantRow,
            r#"SELECT id AS "id: TenantId", name, slug, domain, plan,
                owner_user_id AS "owner_user_id: UserId", is_active,
                created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp"
             FROM tenants WHERE slug = $1"#,
            slug
        )
        .fetch_optional(pool)
        .await
    }

    async fn update_tenant(pool: &PgPool, row: &TenantRow) -> sqlx::Result<u64> {
        let done = sqlx::query!(
            "UPDATE tenants SET name = $2, slug = $3, domain = $4, plan = $5, owner_user_id = $6,
                is_active = $7, updated_at = $8
             WHERE id = $1",
            row.id as _,
            row.name,
            row.slug,
            row.domain,
            row.plan,
            row.owner_user_id as _,
            row.is_active,
            row.updated_at as _,
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn select_tenant_slugs_by_owner(
        pool: &PgPool,
        owner: UserId,
    ) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar!(
            "SELECT slug FROM tenants WHERE owner_user_id = $1 ORDER BY slug",
            owner as _
        )
        .fetch_all(pool)
        .await
    }

    async fn delete_tenant(
        conn: &mut PgConnection,
        id: TenantId,
    ) -> sqlx::Result<Option<DeletedTenantRow>> {
        // The row-level security policy on `activities` admits this tenant's rows only.
        super::activities::set_tenant(conn, id).await?;
        // Locked first: inserting an activity locks its tenant FOR KEY SHARE, so none can
        // be added between the count and the tenant's deletion.
        let Some(slug) =
            sqlx::query_scalar!("SELECT slug FROM tenants WHERE id = $1 FOR UPDATE", id as _)
                .fetch_optional(&mut *conn)
                .await?
        else {
            return Ok(None);
        };
        let activities = sqlx::query!("DELETE FROM activities WHERE tenant_id = $1", id as _)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        sqlx::query!("DELETE FROM tenants WHERE id = $1", id as _)
            .execute(&mut *conn)
            .await?;
        Ok(Some(DeletedTenantRow { slug, activities }))
    }
}
