//! The statements each backend implements, one function per SQL statement, grouped by area.
//! These traits are the sealed supertraits of [`Backend`](super::Backend): they live in a
//! private module, so no other crate can implement or call them.
//!
//! Every function runs one statement and returns plain rows: no validation, encryption or
//! decisions (those are in `Store`). On PostgreSQL the activities functions run theirs in the
//! tenant's row-level security scope; `insert_stored_activities` runs one per row, in one
//! transaction.

use std::{future::Future, time::Duration};

use sqlx::{
    Pool, Transaction,
    migrate::{MigrateError, Migrator},
};

use super::{codec::Timestamp, rows::*};
use crate::{
    StoreConfig,
    model::{A2AClientId, ActivityId, ApiKeyId, TenantId, UserId},
};

/// Opening a pool and migrating its database.
pub trait Lifecycle: sqlx::Database {
    /// Opens a pool with the backend's connection settings (creating a missing SQLite file
    /// only when `config.create_if_missing`).
    fn connect(config: &StoreConfig) -> impl Future<Output = sqlx::Result<Pool<Self>>> + Send;
    /// Whether `error`, returned by [`Lifecycle::connect`], means that the database does
    /// not exist.
    fn is_missing_database(error: &sqlx::Error) -> bool;
    /// Whether `error`, returned by [`Lifecycle::connect`], may mean that the server is
    /// still starting (or restarting) and a later attempt may succeed: never for a
    /// missing database, a refused login or a malformed URL.
    fn is_server_starting(error: &sqlx::Error) -> bool;
    /// Whether `error` says a prepared statement this connection made is missing from
    /// its server session, or a name it chose is taken there: what a transaction pooler
    /// that does not track prepared statements does to sqlx's named statements.
    fn is_lost_statement(error: &sqlx::Error) -> bool;
    /// The server sessions behind two connections of `pool` (see [`SessionProbeRow`]):
    /// `pg_backend_pid()` three times, unnamed statements. Needs two connections at once
    /// (both go back to the pool); [`sqlx::Error::PoolTimedOut`] when the second one, or its
    /// first statement, is not had within `wait`. `None` on a backend without server
    /// sessions.
    fn probe_sessions(
        pool: &Pool<Self>,
        wait: std::time::Duration,
    ) -> impl Future<Output = sqlx::Result<Option<SessionProbeRow>>> + Send;
    /// The migrations embedded in this build.
    fn migrator() -> &'static Migrator;
    /// Applies the embedded migrations not yet applied, up to and including `target`
    /// (all of them when `None`).
    fn migrate(
        pool: &Pool<Self>,
        target: Option<i64>,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send;
    /// Whether the server refuses this connection's user the `CREATE TRIGGER` and
    /// `CREATE PROCEDURE` statements of the schema because of binary logging (MySQL error
    /// 1419): binary logging on (`@@log_bin`), `@@log_bin_trust_function_creators` off,
    /// and no `SUPER` privilege. Always `false` on SQLite and PostgreSQL (no statement).
    fn select_routines_refused(
        pool: &Pool<Self>,
    ) -> impl Future<Output = sqlx::Result<bool>> + Send;
    /// Whether sqlx's `_sqlx_migrations` table exists.
    fn migrations_table_exists(
        pool: &Pool<Self>,
    ) -> impl Future<Output = sqlx::Result<bool>> + Send;
    /// The rows of `_sqlx_migrations`, by version.
    fn select_applied_migrations(
        pool: &Pool<Self>,
    ) -> impl Future<Output = sqlx::Result<Vec<AppliedMigrationRow>>> + Send;
    /// Row counts of every table (every tenant's activities included, past PostgreSQL's
    /// row-level security) and the database size, in one statement.
    fn select_table_counts(
        pool: &Pool<Self>,
    ) -> impl Future<Output = sqlx::Result<TableCountsRow>> + Send;
    /// Begins a transaction that will write: on SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so it never fails half-way to upgrade a read lock; on
    /// PostgreSQL it is READ COMMITTED whatever the database's default isolation, as the
    /// triggers that delete the usage of deleted users and API keys require.
    fn begin_write(
        pool: &Pool<Self>,
    ) -> impl Future<Output = sqlx::Result<Transaction<'static, Self>>> + Send;
    /// A read replica's connection pool: [`Pool<Self>`] on a backend with replicas, an
    /// uninhabited type on one without (no value of it can exist, so neither can a replica).
    type ReplicaPool: Send + Sync + 'static;
    /// A pool on the replica at `url` that connects lazily (a replica that is down when the
    /// store starts is not an error), its acquire timeout capped at `max_acquire`.
    /// Fails with [`sqlx::Error::Configuration`] for a malformed URL, and always on a
    /// backend without replicas.
    fn connect_replica(
        config: &StoreConfig,
        url: &str,
        max_acquire: std::time::Duration,
    ) -> sqlx::Result<Self::ReplicaPool>;
    /// The replica's pool, to run the usual statements on.
    fn replica_pool(replica: &Self::ReplicaPool) -> &Pool<Self>;
    /// What the replica knows of its lag and of its link to the primary (see
    /// [`ReplicaHealthRow`]), measured on the replica.
    fn select_replica_health(
        replica: &Self::ReplicaPool,
    ) -> impl Future<Output = sqlx::Result<ReplicaHealthRow>> + Send;
}

/// `users`.
pub trait UserQueries: sqlx::Database {
    fn insert_user(
        pool: &Pool<Self>,
        row: &UserRow,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn select_user_by_id(
        pool: &Pool<Self>,
        id: UserId,
    ) -> impl Future<Output = sqlx::Result<Option<UserRow>>> + Send;
    fn select_user_by_email(
        pool: &Pool<Self>,
        email: &str,
    ) -> impl Future<Output = sqlx::Result<Option<UserRow>>> + Send;
    /// Deletes the user (its tokens, keys, usage and activities go with it); returns the
    /// number of rows deleted. Fails with a foreign key violation, deleting nothing, while
    /// the user owns a tenant.
    fn delete_user(
        conn: &mut Self::Connection,
        id: UserId,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Replaces the password hash; returns the number of rows changed.
    fn update_user_password_hash(
        pool: &Pool<Self>,
        id: UserId,
        password_hash: &str,
        at: Timestamp,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Returns the number of rows changed.
    fn update_user_last_active(
        pool: &Pool<Self>,
        id: UserId,
        at: Timestamp,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Up to `limit` users whose status is in `statuses` and tier in `tiers`, after
    /// `after` (`(created_at, id)`; from the first when `None`), by `(created_at, id)`.
    fn select_users_page(
        pool: &Pool<Self>,
        statuses: &[&str],
        tiers: &[&str],
        after: Option<(Timestamp, UserId)>,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<UserRow>>> + Send;
    /// A `pending` user becomes `active`, approved by `by` at `at` (`updated_at` too);
    /// returns the number of rows changed (0 for no such user or another status).
    fn approve_user(
        pool: &Pool<Self>,
        id: UserId,
        by: UserId,
        at: Timestamp,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// A `pending` or `active` user becomes `suspended` by `by` at `at` (`updated_at`
    /// too) for `reason`; returns the number of rows changed.
    fn suspend_user(
        pool: &Pool<Self>,
        id: UserId,
        by: UserId,
        reason: &str,
        at: Timestamp,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// A `suspended` user becomes `active`: the suspension columns are cleared, and
    /// `approved_at` / `approved_by` (and `updated_at`) name this reactivation; returns the
    /// number of rows changed.
    fn reactivate_user(
        pool: &Pool<Self>,
        id: UserId,
        by: UserId,
        at: Timestamp,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Sets `firstname`, `lastname` and `updated_at` of a user that is not `deleted`;
    /// returns the number of rows changed.
    fn update_user_profile(
        pool: &Pool<Self>,
        id: UserId,
        firstname: Option<&str>,
        lastname: Option<&str>,
        at: Timestamp,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Sets `tier` and `updated_at` of a user that is not `deleted`; returns the number of
    /// rows changed.
    fn update_user_tier(
        pool: &Pool<Self>,
        id: UserId,
        tier: &str,
        at: Timestamp,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
}

/// `user_oauth_tokens`.
pub trait TokenQueries: sqlx::Database {
    /// Inserts the row, or replaces tokens, expiry, scope and `updated_at` of the existing
    /// row of `(user_id, provider)`, which keeps its `id` and `created_at`.
    fn upsert_oauth_token(
        conn: &mut Self::Connection,
        row: &OAuthTokenRow,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn select_oauth_token(
        pool: &Pool<Self>,
        user_id: UserId,
        provider: &str,
    ) -> impl Future<Output = sqlx::Result<Option<OAuthTokenRow>>> + Send;
    /// Up to `limit` token rows after `(user_id, provider)` in that order with a column
    /// whose header does not carry `key_id` (bytes 2..=9), locked for update where the
    /// backend can.
    fn select_tokens_not_under_key(
        conn: &mut Self::Connection,
        key_id: &[u8],
        after_user_id: UserId,
        after_provider: &str,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<TokenCiphertextRow>>> + Send;
    /// Replaces both encrypted columns of a token row; returns the number of rows changed.
    fn update_token_ciphertexts(
        conn: &mut Self::Connection,
        row: &TokenCiphertextRow,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// The number of token rows, and of those with a column not under `key_id`.
    fn count_tokens_by_key(
        pool: &Pool<Self>,
        key_id: &[u8],
    ) -> impl Future<Output = sqlx::Result<(i64, i64)>> + Send;
    /// Up to `limit` tokens whose `expires_at` is before `before`, by `expires_at`, then
    /// `(user_id, provider)`; no encrypted column is read.
    fn select_tokens_expiring_before(
        pool: &Pool<Self>,
        before: Timestamp,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<ExpiringTokenRow>>> + Send;
    /// Returns the number of rows deleted.
    fn delete_oauth_token(
        pool: &Pool<Self>,
        user_id: UserId,
        provider: &str,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
}

/// `api_keys`.
pub trait ApiKeyQueries: sqlx::Database {
    fn insert_api_key(
        pool: &Pool<Self>,
        row: &ApiKeyRow,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn select_api_key_by_hash(
        pool: &Pool<Self>,
        key_hash: &str,
    ) -> impl Future<Output = sqlx::Result<Option<ApiKeyRow>>> + Send;
    /// For an active, unexpired key with this hash whose user's status is `active` or
    /// `pending`: sets `last_used` to `now`, adds one to `usage_count` and returns the
    /// updated row, in one statement.
    fn touch_valid_api_key(
        pool: &Pool<Self>,
        key_hash: &str,
        now: Timestamp,
    ) -> impl Future<Output = sqlx::Result<Option<ApiKeyRow>>> + Send;
    /// The key with this hash, active or not, with its user's status: one read, what the
    /// authentication cache loads on a miss.
    fn select_api_key_for_auth(
        pool: &Pool<Self>,
        key_hash: &str,
    ) -> impl Future<Output = sqlx::Result<Option<ApiKeyAuthRow>>> + Send;
    /// Adds each row's `uses` to its key's `usage_count` and moves `last_used` forward to
    /// the row's, in one statement (ids listed once); keys that no longer exist are left
    /// out. Returns the number of keys updated. Changes no column the `auth_changes`
    /// triggers watch.
    fn add_api_key_uses(
        pool: &Pool<Self>,
        rows: &[ApiKeyUsesRow],
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Sets `is_active` to false; returns the number of rows matched.
    fn deactivate_api_key(
        pool: &Pool<Self>,
        id: ApiKeyId,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Oldest first.
    fn select_api_keys_by_user(
        pool: &Pool<Self>,
        user_id: UserId,
    ) -> impl Future<Output = sqlx::Result<Vec<ApiKeyRow>>> + Send;
    /// Applies `changes` to the key (never `is_active`) and returns the updated row;
    /// `None` when there is no such key.
    fn update_api_key(
        pool: &Pool<Self>,
        id: ApiKeyId,
        changes: &ApiKeyUpdateRow,
    ) -> impl Future<Output = sqlx::Result<Option<ApiKeyRow>>> + Send;
}

/// `api_key_usage` and `jwt_usage`.
///
/// The usage tables have no foreign keys (migration 20261130000001): every insert checks
/// the referenced API key or user itself, once per statement, keeps it from being deleted
/// until the rows commit, and leaves out rows whose key or user does not exist.
pub trait UsageQueries: sqlx::Database {
    /// Inserts the row if its API key exists; returns the number inserted (0 or 1).
    fn insert_api_key_usage(
        pool: &Pool<Self>,
        row: &ApiKeyUsageRow,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Inserts the row if its user exists; returns the number inserted (0 or 1).
    fn insert_jwt_usage(
        pool: &Pool<Self>,
        row: &JwtUsageRow,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Inserts, in one statement, every row whose API key exists; returns the number
    /// inserted.
    fn insert_api_key_usage_batch(
        conn: &mut Self::Connection,
        rows: &[ApiKeyUsageRow],
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Inserts, in one statement, every row whose user exists; returns the number inserted.
    fn insert_jwt_usage_batch(
        conn: &mut Self::Connection,
        rows: &[JwtUsageRow],
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Deletes up to `limit` of the oldest `api_key_usage` rows older than `cutoff`;
    /// returns the number deleted.
    fn delete_api_key_usage_before(
        pool: &Pool<Self>,
        cutoff: Timestamp,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Deletes up to `limit` of the oldest `jwt_usage` rows older than `cutoff`; returns the
    /// number deleted.
    fn delete_jwt_usage_before(
        pool: &Pool<Self>,
        cutoff: Timestamp,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// On PostgreSQL, creates the month partition (UTC) of both usage tables for each
    /// distinct month of `instants` that has none; returns the number created. SQLite's
    /// usage tables are not partitioned: it runs nothing and returns 0.
    fn create_usage_partitions(
        pool: &Pool<Self>,
        instants: &[Timestamp],
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Whether `error` is an insert refused because no partition holds the row's month
    /// (PostgreSQL: SQLSTATE 23514, "no partition of relation ... found for row"). Never
    /// on SQLite.
    fn is_missing_partition(error: &sqlx::Error) -> bool;
    /// Whether `error` says the role lacks a privilege (PostgreSQL: SQLSTATE 42501,
    /// insufficient_privilege, e.g. it does not own the usage tables). Never on SQLite.
    fn is_insufficient_privilege(error: &sqlx::Error) -> bool;
    /// On PostgreSQL, drops the oldest `api_key_usage` partition whose whole month lies
    /// before `cutoff` (in its own statement, waiting at most 1 s for its lock); returns the
    /// rows it held, or `None` when there is no such partition. SQLite runs nothing and
    /// returns `None`.
    fn drop_oldest_api_key_usage_partition_before(
        pool: &Pool<Self>,
        cutoff: Timestamp,
    ) -> impl Future<Output = sqlx::Result<Option<u64>>> + Send;
    /// As [`UsageQueries::drop_oldest_api_key_usage_partition_before`], for `jwt_usage`.
    fn drop_oldest_jwt_usage_partition_before(
        pool: &Pool<Self>,
        cutoff: Timestamp,
    ) -> impl Future<Output = sqlx::Result<Option<u64>>> + Send;
    /// One aggregate over the usage of every API key of the user.
    fn select_usage_stats(
        pool: &Pool<Self>,
        user_id: UserId,
    ) -> impl Future<Output = sqlx::Result<UsageStatsRow>> + Send;
    /// Per endpoint, the key's `api_key_usage` rows stamped in `[from, to)`: most requests
    /// first, then endpoint in byte order; at most `limit` rows.
    fn select_api_key_endpoint_usage(
        pool: &Pool<Self>,
        api_key_id: ApiKeyId,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<EndpointUsageRow>>> + Send;
    /// As [`UsageQueries::select_api_key_endpoint_usage`], over the user's `jwt_usage`.
    fn select_jwt_endpoint_usage(
        pool: &Pool<Self>,
        user_id: UserId,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<EndpointUsageRow>>> + Send;
}

/// `a2a_clients`.
pub trait A2AClientQueries: sqlx::Database {
    fn insert_a2a_client(
        pool: &Pool<Self>,
        row: &A2AClientRow,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn select_a2a_client_by_id(
        pool: &Pool<Self>,
        id: A2AClientId,
    ) -> impl Future<Output = sqlx::Result<Option<A2AClientRow>>> + Send;
    /// For an active, unrevoked client with this key hash: sets `last_used` to `now` and
    /// returns the updated row, in one statement.
    fn touch_active_a2a_client(
        pool: &Pool<Self>,
        api_key_hash: &str,
        now: Timestamp,
    ) -> impl Future<Output = sqlx::Result<Option<A2AClientRow>>> + Send;
    fn select_a2a_client_by_key_hash(
        pool: &Pool<Self>,
        api_key_hash: &str,
    ) -> impl Future<Output = sqlx::Result<Option<A2AClientRow>>> + Send;
    /// Moves each client's `last_used` forward to the row's, in one statement (ids listed
    /// once); returns the number of clients updated. Changes no column the
    /// `auth_changes` triggers watch.
    fn set_a2a_clients_last_used(
        pool: &Pool<Self>,
        rows: &[A2AClientUseRow],
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Sets `is_active` to false and `revoked_at` to `at` unless already set; returns the
    /// number of rows matched.
    fn revoke_a2a_client(
        pool: &Pool<Self>,
        id: A2AClientId,
        at: Timestamp,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Sets `is_active`, except to true on a revoked client; returns the number of rows
    /// changed (0 for no such client, or a revoked one asked to become active).
    fn set_a2a_client_active(
        pool: &Pool<Self>,
        id: A2AClientId,
        active: bool,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// Applies `changes` and returns the updated row, unless they would activate a revoked
    /// client; `None` (nothing changed) for that and for no such client.
    fn update_a2a_client(
        pool: &Pool<Self>,
        id: A2AClientId,
        changes: &A2AClientUpdateRow,
    ) -> impl Future<Output = sqlx::Result<Option<A2AClientRow>>> + Send;
    /// As [`CopyQueries::page_a2a_clients`] (up to `limit` clients with an id after
    /// `after`, in id order), only the clients whose `is_active` is `active`.
    fn select_a2a_clients_page_by_active(
        pool: &Pool<Self>,
        active: bool,
        after: A2AClientId,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<A2AClientRow>>> + Send;
}

/// `tenants`.
pub trait TenantQueries: sqlx::Database {
    fn insert_tenant(
        pool: &Pool<Self>,
        row: &TenantRow,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn select_tenant_by_id(
        pool: &Pool<Self>,
        id: TenantId,
    ) -> impl Future<Output = sqlx::Result<Option<TenantRow>>> + Send;
    fn select_tenant_by_slug(
        pool: &Pool<Self>,
        slug: &str,
    ) -> impl Future<Output = sqlx::Result<Option<TenantRow>>> + Send;
    /// Writes every column but `id` and `created_at`; returns the number of rows changed.
    fn update_tenant(
        pool: &Pool<Self>,
        row: &TenantRow,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// The slugs of the tenants the user owns, in order.
    fn select_tenant_slugs_by_owner(
        pool: &Pool<Self>,
        owner: UserId,
    ) -> impl Future<Output = sqlx::Result<Vec<String>>> + Send;
    /// Deletes the tenant's activities (soft-deleted ones included), then the tenant, in the
    /// caller's transaction; returns the tenant's slug and the number of activities deleted,
    /// or `None` (nothing deleted) when there is no such tenant. On PostgreSQL it locks the
    /// tenant first (no activity can be added meanwhile) and runs in the tenant's
    /// row-level security scope.
    fn delete_tenant(
        conn: &mut Self::Connection,
        id: TenantId,
    ) -> impl Future<Output = sqlx::Result<Option<DeletedTenantRow>>> + Send;
}

/// `activities`, always filtered by tenant; soft-deleted rows are never returned.
pub trait ActivityQueries: sqlx::Database {
    fn insert_activity(
        pool: &Pool<Self>,
        row: &ActivityRow,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn select_activity(
        pool: &Pool<Self>,
        tenant_id: TenantId,
        id: ActivityId,
    ) -> impl Future<Output = sqlx::Result<Option<ActivityRow>>> + Send;
    /// Newest `start_date` first, at most `limit` rows.
    fn select_user_activities(
        pool: &Pool<Self>,
        tenant_id: TenantId,
        user_id: UserId,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<ActivityRow>>> + Send;
    /// One aggregate over the user's activities in the tenant.
    fn select_user_stats(
        pool: &Pool<Self>,
        tenant_id: TenantId,
        user_id: UserId,
    ) -> impl Future<Output = sqlx::Result<UserStatsRow>> + Send;
    /// Sets `deleted_at`; returns the number of rows changed (0 if absent or already deleted).
    fn soft_delete_activity(
        pool: &Pool<Self>,
        tenant_id: TenantId,
        id: ActivityId,
        at: Timestamp,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
}

/// Every row of every table in primary-key order, a page at a time, and the writes only a
/// copy between databases needs ([`Store::copy_into`](crate::Store::copy_into)). Each page
/// starts after the last key of the previous one (`after`); the first starts at the nil id.
pub trait CopyQueries: sqlx::Database {
    fn page_users(
        pool: &Pool<Self>,
        after: UserId,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<UserRow>>> + Send;
    /// Sets the two columns that refer to other users (copied users first go in without
    /// them, since they may refer to users not copied yet).
    fn set_user_moderators(
        pool: &Pool<Self>,
        id: UserId,
        approved_by: Option<UserId>,
        suspended_by: Option<UserId>,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    fn page_oauth_tokens(
        pool: &Pool<Self>,
        after: (UserId, &str),
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<OAuthTokenRow>>> + Send;
    fn page_api_keys(
        pool: &Pool<Self>,
        after: ApiKeyId,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<ApiKeyRow>>> + Send;
    fn page_a2a_clients(
        pool: &Pool<Self>,
        after: A2AClientId,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<A2AClientRow>>> + Send;
    fn page_tenants(
        pool: &Pool<Self>,
        after: TenantId,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<TenantRow>>> + Send;
    /// One tenant's activities, soft-deleted ones included.
    fn page_activities(
        pool: &Pool<Self>,
        tenant: TenantId,
        after: ActivityId,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<StoredActivityRow>>> + Send;
    /// Inserts one tenant's activities as they were stored, in one transaction.
    fn insert_stored_activities(
        pool: &Pool<Self>,
        tenant: TenantId,
        rows: &[StoredActivityRow],
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
    /// The ids only order the pages (a copy's rows get new ones).
    fn page_api_key_usage(
        pool: &Pool<Self>,
        after: i64,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<StoredApiKeyUsageRow>>> + Send;
    /// As [`CopyQueries::page_api_key_usage`].
    fn page_jwt_usage(
        pool: &Pool<Self>,
        after: i64,
        limit: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<StoredJwtUsageRow>>> + Send;
}

/// `auth_changes`: the counter that triggers bump on every change an authentication cache
/// must see (migration 20261203000010), and what wakes a store to re-read it.
pub trait AuthChangeQueries: sqlx::Database {
    /// What says the counter may have moved: a `LISTEN` connection on PostgreSQL, a timer
    /// on SQLite.
    type AuthWatch: AuthWatch;
    /// The counter's value.
    fn select_auth_change_counter(
        pool: &Pool<Self>,
    ) -> impl Future<Output = sqlx::Result<i64>> + Send;
    /// Starts watching: on PostgreSQL opens a connection of its own (the pool's connect
    /// options, in a one-connection pool of its own: none of `pool`'s connections) and `LISTEN`s on `pierre_auth_changes`; on SQLite starts a timer of
    /// period `poll`. Read the counter after this returns: a change committed before it
    /// is in the counter, every later one wakes the watch.
    fn watch_auth_changes(
        pool: &Pool<Self>,
        poll: Duration,
    ) -> impl Future<Output = sqlx::Result<Self::AuthWatch>> + Send;
}

/// A running watch of `auth_changes` (see [`AuthChangeQueries::watch_auth_changes`]).
pub trait AuthWatch: Send + 'static {
    /// Resolves when the counter may have moved: `true` on a notification (a change was
    /// committed, whatever the counter now reads), `false` on a poll tick (compare the
    /// counter); an error when the watch is lost (its connection closed): notifications
    /// may have been missed, so start a new watch and read the counter again.
    fn changed(&mut self) -> impl Future<Output = sqlx::Result<bool>> + Send;
}
