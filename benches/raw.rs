//! The baseline: the same work as each store operation, written as plain runtime sqlx
//! statements on the store's own pool (and, for tokens, plain XChaCha20-Poly1305 with the
//! store's ciphertext layout). Rows are decoded in full, as the store does.

use std::future::Future;

use base64::Engine;
use chacha20poly1305::{
    AeadCore, KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, OsRng, Payload},
};
use pierre_store::{
    ApiKeyId, Backend, EncryptionKey, MySql, Postgres, Sqlite, Store, TenantId, UserId,
};
use sqlx::{Pool, types::Json};
use time::{OffsetDateTime, PrimitiveDateTime};

/// What the baseline needs: the store's pool and a cipher for the store's key.
pub struct RawCtx<B: sqlx::Database> {
    pool: Pool<B>,
    cipher: XChaCha20Poly1305,
    key_id: [u8; 8],
}

#[derive(sqlx::FromRow)]
#[allow(dead_code)]
pub struct RawUser<T> {
    id: UserId,
    email: String,
    password_hash: String,
    firstname: Option<String>,
    lastname: Option<String>,
    status: String,
    is_admin: bool,
    tier: String,
    rate_limit_multiplier: f64,
    created_at: T,
    updated_at: T,
    last_active: T,
    approved_at: Option<T>,
    approved_by: Option<UserId>,
    suspended_at: Option<T>,
    suspended_by: Option<UserId>,
    suspension_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
#[allow(dead_code)]
pub struct RawApiKey<T> {
    id: ApiKeyId,
    user_id: UserId,
    name: String,
    key_hash: String,
    key_prefix: String,
    tier: String,
    scopes: Json<Vec<String>>,
    is_active: bool,
    last_used: Option<T>,
    usage_count: i64,
    rate_limit_override: Option<i64>,
    expires_at: Option<T>,
    created_at: T,
    metadata: Json<serde_json::Value>,
}

#[derive(sqlx::FromRow)]
#[allow(dead_code)]
struct RawActivity<T> {
    id: pierre_store::ActivityId,
    tenant_id: TenantId,
    user_id: UserId,
    name: String,
    activity_type: String,
    distance: f64,
    duration: i64,
    start_date: T,
    created_at: T,
    updated_at: T,
}

fn aad(user: UserId, token: &str) -> Vec<u8> {
    format!("pierre-store/user_oauth_tokens/{user}/strava/{token}").into_bytes()
}

impl<B: sqlx::Database> RawCtx<B> {
    fn new(pool: Pool<B>, key: &EncryptionKey) -> Self {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.to_base64().as_str())
            .expect("a key's base64 decodes");
        let mut key_id = [0; 8];
        key_id.copy_from_slice(key.id().as_bytes());
        Self {
            pool,
            cipher: XChaCha20Poly1305::new(bytes.as_slice().into()),
            key_id,
        }
    }

    fn open(&self, stored: &[u8], aad: &[u8]) -> eyre::Result<String> {
        let nonce: [u8; 24] = stored[9..33].try_into()?;
        let plain = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &stored[33..],
                    aad,
                },
            )
            .map_err(|_| eyre::eyre!("decrypt"))?;
        Ok(String::from_utf8(plain)?)
    }

    fn seal(&self, plaintext: &str, aad: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad,
                },
            )
            .expect("encrypts");
        let mut out = Vec::with_capacity(33 + sealed.len());
        out.push(1);
        out.extend_from_slice(&self.key_id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }
}

/// One method per measured operation.
pub trait Raw: Backend + Sized {
    type User;
    type ApiKey;
    fn prepare(store: &Store<Self>, key: &EncryptionKey) -> RawCtx<Self>;
    fn api_key_by_hash(
        ctx: &RawCtx<Self>,
        hash: &str,
    ) -> impl Future<Output = eyre::Result<Option<Self::ApiKey>>> + Send;
    fn user_by_email(
        ctx: &RawCtx<Self>,
        email: &str,
    ) -> impl Future<Output = eyre::Result<Option<Self::User>>> + Send;
    fn user(
        ctx: &RawCtx<Self>,
        id: UserId,
    ) -> impl Future<Output = eyre::Result<Option<Self::User>>> + Send;
    fn oauth_token(
        ctx: &RawCtx<Self>,
        user: UserId,
    ) -> impl Future<Output = eyre::Result<Option<(String, Option<String>)>>> + Send;
    fn upsert_oauth_token(
        ctx: &RawCtx<Self>,
        user: UserId,
        access: &str,
        refresh: &str,
    ) -> impl Future<Output = eyre::Result<()>> + Send;
    /// Brings planner statistics up to date after the bulk fill, as autovacuum or a
    /// periodic `PRAGMA optimize` would on a live database, so that it does not run during
    /// a measurement.
    fn settle(ctx: &RawCtx<Self>) -> impl Future<Output = eyre::Result<()>> + Send;
    fn insert_usage(
        ctx: &RawCtx<Self>,
        key: ApiKeyId,
    ) -> impl Future<Output = eyre::Result<()>> + Send;
    fn usage_stats(
        ctx: &RawCtx<Self>,
        user: UserId,
    ) -> impl Future<Output = eyre::Result<()>> + Send;
    fn user_stats(
        ctx: &RawCtx<Self>,
        tenant: TenantId,
        user: UserId,
    ) -> impl Future<Output = eyre::Result<()>> + Send;
    fn user_activities(
        ctx: &RawCtx<Self>,
        tenant: TenantId,
        user: UserId,
    ) -> impl Future<Output = eyre::Result<()>> + Send;
}

/// The same Rust for every backend; only the SQL text and the timestamp type differ. The
/// parameters are bound in the order of the calls below: MySQL's `?` are positional, so its
/// statements take them in that order (through a derived table where the SQL needs them
/// elsewhere).
macro_rules! raw_backend {
    ($db:ty, $ts:ty, $now:expr, {
        api_key: $api_key:literal, user_by_email: $user_by_email:literal, user: $user:literal,
        settle: $settle:literal, token: $token:literal, upsert_token: $upsert_token:literal,
        usage: $usage:literal,
        usage_stats: $usage_stats:literal, user_stats: $user_stats:literal,
        activities: $activities:literal $(,)?
    }) => {
        impl Raw for $db {
            type User = RawUser<$ts>;
            type ApiKey = RawApiKey<$ts>;

            fn prepare(store: &Store<Self>, key: &EncryptionKey) -> RawCtx<Self> {
                RawCtx::new(store.pool().clone(), key)
            }

            async fn api_key_by_hash(
                ctx: &RawCtx<Self>,
                hash: &str,
            ) -> eyre::Result<Option<Self::ApiKey>> {
                Ok(sqlx::query_as($api_key)
                    .bind(hash)
                    .fetch_optional(&ctx.pool)
                    .await?)
            }

            async fn user_by_email(
                ctx: &RawCtx<Self>,
                email: &str,
            ) -> eyre::Result<Option<Self::User>> {
                Ok(sqlx::query_as($user_by_email)
                    .bind(email)
                    .fetch_optional(&ctx.pool)
                    .await?)
            }

            async fn user(ctx: &RawCtx<Self>, id: UserId) -> eyre::Result<Option<Self::User>> {
                Ok(sqlx::query_as($user)
                    .bind(id)
                    .fetch_optional(&ctx.pool)
                    .await?)
            }

            async fn oauth_token(
                ctx: &RawCtx<Self>,
                user: UserId,
            ) -> eyre::Result<Option<(String, Option<String>)>> {
                let row: Option<(Vec<u8>, Option<Vec<u8>>, Option<$ts>, Option<String>)> =
                    sqlx::query_as($token)
                        .bind(user)
                        .bind("strava")
                        .fetch_optional(&ctx.pool)
                        .await?;
                let Some((access, refresh, _, _)) = row else {
                    return Ok(None);
                };
                let access = ctx.open(&access, &aad(user, "access_token"))?;
                let refresh = refresh
                    .map(|r| ctx.open(&r, &aad(user, "refresh_token")))
                    .transpose()?;
                Ok(Some((access, refresh)))
            }

            async fn upsert_oauth_token(
                ctx: &RawCtx<Self>,
                user: UserId,
                access: &str,
                refresh: &str,
            ) -> eyre::Result<()> {
                let now: $ts = $now;
                sqlx::query($upsert_token)
                    .bind(user)
                    .bind("strava")
                    .bind(ctx.seal(access, &aad(user, "access_token")))
                    .bind(ctx.seal(refresh, &aad(user, "refresh_token")))
                    .bind(now)
                    // The row's own id, used when the user has no token yet.
                    .bind(uuid::Uuid::new_v4().to_string())
                    .execute(&ctx.pool)
                    .await?;
                Ok(())
            }

            async fn settle(ctx: &RawCtx<Self>) -> eyre::Result<()> {
                sqlx::raw_sql($settle).execute(&ctx.pool).await?;
                Ok(())
            }

            async fn insert_usage(ctx: &RawCtx<Self>, key: ApiKeyId) -> eyre::Result<()> {
                let now: $ts = $now;
                // The usage tables have no foreign key: like the store, check the key.
                let done = sqlx::query($usage)
                    .bind(key)
                    .bind(now)
                    .bind("/bench")
                    .bind("GET")
                    .bind(200_i64)
                    .bind(12_i64)
                    .execute(&ctx.pool)
                    .await?;
                eyre::ensure!(done.rows_affected() == 1, "no such api key");
                Ok(())
            }

            async fn usage_stats(ctx: &RawCtx<Self>, user: UserId) -> eyre::Result<()> {
                let _: (i64, i64, Option<f64>, Option<$ts>, Option<$ts>) =
                    sqlx::query_as($usage_stats)
                        .bind(user)
                        .fetch_one(&ctx.pool)
                        .await?;
                Ok(())
            }

            async fn user_stats(
                ctx: &RawCtx<Self>,
                tenant: TenantId,
                user: UserId,
            ) -> eyre::Result<()> {
                let _: (
                    i64,
                    Option<f64>,
                    Option<i64>,
                    Option<f64>,
                    Option<$ts>,
                    Option<$ts>,
                ) = sqlx::query_as($user_stats)
                    .bind(tenant)
                    .bind(user)
                    .fetch_one(&ctx.pool)
                    .await?;
                Ok(())
            }

            async fn user_activities(
                ctx: &RawCtx<Self>,
                tenant: TenantId,
                user: UserId,
            ) -> eyre::Result<()> {
                let _: Vec<RawActivity<$ts>> = sqlx::query_as($activities)
                    .bind(tenant)
                    .bind(user)
                    .bind(20_i64)
                    .fetch_all(&ctx.pool)
                    .await?;
                Ok(())
            }
        }
    };
}

fn now_micros() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as i64
}

raw_backend!(Sqlite, i64, now_micros(), {
    api_key: "SELECT id, user_id, name, key_hash, key_prefix, tier, scopes, is_active, last_used, usage_count, rate_limit_override, expires_at, created_at, metadata FROM api_keys WHERE key_hash = ?1",
    user_by_email: "SELECT id, email, password_hash, firstname, lastname, status, is_admin, tier, rate_limit_multiplier, created_at, updated_at, last_active, approved_at, approved_by, suspended_at, suspended_by, suspension_reason FROM users WHERE email = ?1",
    user: "SELECT id, email, password_hash, firstname, lastname, status, is_admin, tier, rate_limit_multiplier, created_at, updated_at, last_active, approved_at, approved_by, suspended_at, suspended_by, suspension_reason FROM users WHERE id = ?1",
    settle: "PRAGMA optimize",
    token: "SELECT access_token_encrypted, refresh_token_encrypted, expires_at, scope FROM user_oauth_tokens WHERE user_id = ?1 AND provider = ?2",
    upsert_token: "INSERT INTO user_oauth_tokens (id, user_id, provider, access_token_encrypted, refresh_token_encrypted, created_at, updated_at) VALUES (?6, ?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (user_id, provider) DO UPDATE SET access_token_encrypted = excluded.access_token_encrypted, refresh_token_encrypted = excluded.refresh_token_encrypted, updated_at = excluded.updated_at",
    usage: "INSERT INTO api_key_usage (api_key_id, timestamp, endpoint, method, status_code, response_time_ms) SELECT k.id, ?2, ?3, ?4, ?5, ?6 FROM api_keys k WHERE k.id = ?1",
    usage_stats: "SELECT COUNT(*), COUNT(*) FILTER (WHERE u.status_code < 400), AVG(u.response_time_ms), MIN(u.timestamp), MAX(u.timestamp) FROM api_key_usage u JOIN api_keys k ON k.id = u.api_key_id WHERE k.user_id = ?1",
    user_stats: "SELECT COUNT(*), SUM(distance), SUM(duration), AVG(distance), MIN(start_date), MAX(start_date) FROM activities WHERE tenant_id = ?1 AND user_id = ?2 AND deleted_at IS NULL",
    activities: "SELECT id, tenant_id, user_id, name, type AS activity_type, distance, duration, start_date, created_at, updated_at FROM activities WHERE tenant_id = ?1 AND user_id = ?2 AND deleted_at IS NULL ORDER BY start_date DESC, id LIMIT ?3",
});

raw_backend!(Postgres, OffsetDateTime, OffsetDateTime::now_utc(), {
    api_key: "SELECT id, user_id, name, key_hash, key_prefix, tier, scopes, is_active, last_used, usage_count, rate_limit_override, expires_at, created_at, metadata FROM api_keys WHERE key_hash = $1",
    user_by_email: "SELECT id, email, password_hash, firstname, lastname, status, is_admin, tier, rate_limit_multiplier, created_at, updated_at, last_active, approved_at, approved_by, suspended_at, suspended_by, suspension_reason FROM users WHERE email = $1",
    user: "SELECT id, email, password_hash, firstname, lastname, status, is_admin, tier, rate_limit_multiplier, created_at, updated_at, last_active, approved_at, approved_by, suspended_at, suspended_by, suspension_reason FROM users WHERE id = $1",
    settle: "VACUUM ANALYZE",
    token: "SELECT access_token_encrypted, refresh_token_encrypted, expires_at, scope FROM user_oauth_tokens WHERE user_id = $1 AND provider = $2",
    upsert_token: "INSERT INTO user_oauth_tokens (id, user_id, provider, access_token_encrypted, refresh_token_encrypted, created_at, updated_at) VALUES ($6::uuid, $1, $2, $3, $4, $5, $5) ON CONFLICT (user_id, provider) DO UPDATE SET access_token_encrypted = excluded.access_token_encrypted, refresh_token_encrypted = excluded.refresh_token_encrypted, updated_at = excluded.updated_at",
    usage: "INSERT INTO api_key_usage (api_key_id, timestamp, endpoint, method, status_code, response_time_ms) SELECT k.id, $2::timestamptz, $3::text, $4::text, $5::bigint, $6::bigint FROM api_keys k WHERE k.id = $1 FOR KEY SHARE",
    usage_stats: "SELECT COUNT(*), COUNT(*) FILTER (WHERE u.status_code < 400), AVG(u.response_time_ms)::DOUBLE PRECISION, MIN(u.timestamp), MAX(u.timestamp) FROM api_key_usage u JOIN api_keys k ON k.id = u.api_key_id WHERE k.user_id = $1",
    user_stats: "SELECT COUNT(*), SUM(distance), SUM(duration)::BIGINT, AVG(distance), MIN(start_date), MAX(start_date) FROM activities WHERE tenant_id = $1 AND user_id = $2 AND deleted_at IS NULL",
    activities: "SELECT id, tenant_id, user_id, name, type AS activity_type, distance, duration, start_date, created_at, updated_at FROM activities WHERE tenant_id = $1 AND user_id = $2 AND deleted_at IS NULL ORDER BY start_date DESC, id LIMIT $3",
});

fn now_utc_primitive() -> PrimitiveDateTime {
    let now = OffsetDateTime::now_utc();
    PrimitiveDateTime::new(now.date(), now.time())
}

raw_backend!(MySql, PrimitiveDateTime, now_utc_primitive(), {
    api_key: "SELECT id, user_id, name, key_hash, key_prefix, tier, scopes, is_active, last_used, usage_count, rate_limit_override, expires_at, created_at, metadata FROM api_keys WHERE key_hash = ?",
    user_by_email: "SELECT id, email, password_hash, firstname, lastname, status, is_admin, tier, rate_limit_multiplier, created_at, updated_at, last_active, approved_at, approved_by, suspended_at, suspended_by, suspension_reason FROM users WHERE email = ?",
    user: "SELECT id, email, password_hash, firstname, lastname, status, is_admin, tier, rate_limit_multiplier, created_at, updated_at, last_active, approved_at, approved_by, suspended_at, suspended_by, suspension_reason FROM users WHERE id = ?",
    settle: "ANALYZE TABLE users, user_oauth_tokens, api_keys, api_key_usage, activities",
    token: "SELECT access_token_encrypted, refresh_token_encrypted, expires_at, scope FROM user_oauth_tokens WHERE user_id = ? AND provider = ?",
    upsert_token: "INSERT INTO user_oauth_tokens (user_id, provider, access_token_encrypted, refresh_token_encrypted, created_at, updated_at, id) SELECT p.user_id, p.provider, p.access, p.refresh, p.now, p.now, p.id FROM (SELECT ? AS user_id, ? AS provider, ? AS access, ? AS refresh, CAST(? AS DATETIME(6)) AS now, ? AS id) p ON DUPLICATE KEY UPDATE access_token_encrypted = VALUES(access_token_encrypted), refresh_token_encrypted = VALUES(refresh_token_encrypted), updated_at = VALUES(updated_at)",
    usage: "INSERT INTO api_key_usage (api_key_id, `timestamp`, endpoint, method, status_code, response_time_ms) SELECT k.id, p.ts, p.endpoint, p.method, p.status_code, p.response_time_ms FROM (SELECT ? AS id, CAST(? AS DATETIME(6)) AS ts, ? AS endpoint, ? AS method, ? AS status_code, ? AS response_time_ms) p JOIN api_keys k ON k.id = p.id LOCK IN SHARE MODE",
    usage_stats: "SELECT COUNT(*), CAST(COALESCE(SUM(u.status_code < 400), 0) AS SIGNED), CAST(AVG(u.response_time_ms) AS DOUBLE), MIN(u.`timestamp`), MAX(u.`timestamp`) FROM api_key_usage u JOIN api_keys k ON k.id = u.api_key_id WHERE k.user_id = ?",
    user_stats: "SELECT COUNT(*), SUM(distance), CAST(SUM(duration) AS SIGNED), AVG(distance), MIN(start_date), MAX(start_date) FROM activities WHERE tenant_id = ? AND user_id = ? AND deleted_at IS NULL",
    activities: "SELECT id, tenant_id, user_id, name, type AS activity_type, distance, duration, start_date, created_at, updated_at FROM activities WHERE tenant_id = ? AND user_id = ? AND deleted_at IS NULL ORDER BY start_date DESC, id LIMIT ?",
});
