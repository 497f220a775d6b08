//! Schema versions: status before and after migrating, partial migration, and refusing a
//! database whose history does not match this build.
//!
//! The `upgrading_*` tests migrate to an old version, write the rows a database of that
//! version holds, migrate on and check the rows and the new behaviour. On SQLite and
//! PostgreSQL the schema at an old version has that version's shape. On MySQL it does not:
//! the backend arrived after the others had migrated through every version, so its first
//! migration creates the schema they reached and the later ones add only what has no place
//! there (triggers, the auth_changes counter) or nothing; no MySQL database ever had an
//! old shape. There each test checks instead that the old version already has the final
//! shape (the same probes, expecting the other answer: see [`old_versions_keep_their_shape`]),
//! writes its rows in that shape, and then checks everything the other backends check.

mod common;

use common::{Cleanup, PerBackend, RawTokenRow, TestBackend, TestDb};
use pierre_store::{
    Activity, ActivityId, ApiKey, ApiKeyUsage, EncryptionKey, Error, JwtUsage, OAuthProvider,
    OAuthToken, Store, Tenant, TenantId, User,
};
use std::collections::BTreeSet;
use time::OffsetDateTime;

backend_tests!(
    a_new_database_has_no_version_and_every_migration_pending,
    migrate_to_applies_up_to_a_version,
    migrate_to_a_version_no_migration_has_is_refused_and_applies_nothing,
    a_changed_migration_is_refused,
    a_database_newer_than_this_build_is_refused,
    upgrading_keeps_usage_rows_and_their_deletion_cascade,
    upgrading_keeps_tenants_and_activities_and_stops_owner_deletion,
    upgrading_names_token_columns_as_the_seed_and_every_token_still_decrypts,
    every_seed_column_exists_by_its_seed_name,
);

/// Whether the schema at an old version has that version's shape (true on SQLite and
/// PostgreSQL), or already the final one (MySQL, whose migrations start from the final
/// schema: see the module's documentation).
fn old_versions_keep_their_shape<B: TestBackend>() -> bool {
    B::of(PerBackend {
        sqlite: true,
        postgres: true,
        mysql: false,
    })
}

/// Checks which shape the schema at `url` has: each of `old_shape_only` (statements only
/// the old shape accepts) must succeed exactly when [`old_versions_keep_their_shape`], each
/// of `final_shape_only` exactly when not.
async fn assert_shape_at_old_version<B: TestBackend>(
    url: &str,
    old_shape_only: &[&'static str],
    final_shape_only: &[&'static str],
) {
    let old = old_versions_keep_their_shape::<B>();
    for (statements, expected) in [(old_shape_only, old), (final_shape_only, !old)] {
        for sql in statements {
            let result = B::raw_execute(url, sql).await;
            assert_eq!(result.is_ok(), expected, "{sql}: {result:?}");
        }
    }
}

/// The foreign keys of the two usage tables: one each (to `api_keys`, to `users`) until
/// migration 20261130000001 replaced them with triggers.
const USAGE_FOREIGN_KEYS: PerBackend<&str> = PerBackend {
    sqlite: "SELECT (SELECT COUNT(*) FROM pragma_foreign_key_list('api_key_usage'))
        + (SELECT COUNT(*) FROM pragma_foreign_key_list('jwt_usage'))",
    postgres: "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f'
        AND conrelid IN ('api_key_usage'::regclass, 'jwt_usage'::regclass)",
    mysql: "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS
        WHERE constraint_schema = DATABASE() AND table_name IN ('api_key_usage', 'jwt_usage')",
};

/// 1 while deleting a tenant's owner cascades to the tenant (until migration
/// 20261201000002), 0 after.
const OWNER_DELETION_CASCADES: PerBackend<&str> = PerBackend {
    sqlite: "SELECT COUNT(*) FROM pragma_foreign_key_list('tenants')
        WHERE \"from\" = 'owner_user_id' AND on_delete = 'CASCADE'",
    postgres: "SELECT COUNT(*) FROM pg_constraint
        WHERE conname = 'tenants_owner_user_id_fkey' AND confdeltype = 'c'",
    mysql: "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS
        WHERE constraint_schema = DATABASE() AND constraint_name = 'tenants_owner_user_id_fkey'
          AND delete_rule = 'CASCADE'",
};

async fn fresh<B: TestBackend>() -> eyre::Result<(Store<B>, String, Cleanup)> {
    let (url, cleanup) = B::fresh_database().await?;
    let store = Store::<B>::new(&url, EncryptionKey::generate()).await?;
    Ok((store, url, cleanup))
}

async fn a_new_database_has_no_version_and_every_migration_pending<B: TestBackend>()
-> eyre::Result<()> {
    let (store, _url, _cleanup) = fresh::<B>().await?;
    assert_eq!(store.schema_version().await?, None);
    let before = store.migration_status().await?;
    assert!(!before.is_empty());
    assert!(
        before
            .iter()
            .all(|m| !m.applied && m.known && m.applied_at.is_none() && m.checksum_ok.is_none())
    );

    store.migrate().await?;
    let after = store.migration_status().await?;
    let latest = after.iter().map(|m| m.version).max();
    assert_eq!(store.schema_version().await?, latest);
    assert!(
        after
            .iter()
            .all(|m| m.applied && m.known && m.checksum_ok == Some(true) && m.applied_at.is_some()),
        "{after:?}"
    );
    Ok(())
}

async fn migrate_to_applies_up_to_a_version<B: TestBackend>() -> eyre::Result<()> {
    let (store, _url, _cleanup) = fresh::<B>().await?;
    let first = store.migration_status().await?[0].version;
    store.migrate_to(first).await?;
    assert_eq!(store.schema_version().await?, Some(first));
    store.migrate_to(first).await?;
    assert_eq!(store.schema_version().await?, Some(first), "idempotent");
    Ok(())
}

async fn migrate_to_a_version_no_migration_has_is_refused_and_applies_nothing<B: TestBackend>()
-> eyre::Result<()> {
    let (store, _url, _cleanup) = fresh::<B>().await?;
    let known: Vec<i64> = store
        .migration_status()
        .await?
        .iter()
        .map(|m| m.version)
        .collect();
    for unknown in [1, known[known.len() - 1] + 1, i64::MAX] {
        let err = store.migrate_to(unknown).await.unwrap_err();
        let Error::InvalidInput { field, reason } = &err else {
            panic!("expected InvalidInput for version {unknown}, got {err:?}")
        };
        assert_eq!(*field, "version");
        for version in &known {
            assert!(reason.contains(&version.to_string()), "{reason}");
        }
        assert_eq!(store.schema_version().await?, None, "nothing applied");
    }
    Ok(())
}

async fn a_changed_migration_is_refused<B: TestBackend>() -> eyre::Result<()> {
    let (store, url, _cleanup) = fresh::<B>().await?;
    store.migrate().await?;
    B::raw_execute(
        &url,
        B::of(PerBackend {
            sqlite: "UPDATE _sqlx_migrations SET checksum = X'00'",
            postgres: "UPDATE _sqlx_migrations SET checksum = '\\x00'::bytea",
            mysql: "UPDATE _sqlx_migrations SET checksum = X'00'",
        }),
    )
    .await?;
    let err = store.migrate().await.unwrap_err();
    assert!(matches!(err, Error::Migration(_)), "{err:?}");
    assert!(err.to_string().contains("modified"), "{err}");
    let status = store.migration_status().await?;
    assert!(
        status.iter().all(|m| m.checksum_ok == Some(false)),
        "{status:?}"
    );
    Ok(())
}

async fn a_database_newer_than_this_build_is_refused<B: TestBackend>() -> eyre::Result<()> {
    let (store, url, _cleanup) = fresh::<B>().await?;
    store.migrate().await?;
    B::raw_execute(
        &url,
        B::of(PerBackend {
            sqlite: "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99991231000000, 'from the future', 1, X'00', 0)",
            postgres: "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99991231000000, 'from the future', TRUE, '\\x00'::bytea, 0)",
            mysql: "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99991231000000, 'from the future', TRUE, X'00', 0)",
        }),
    )
    .await?;
    let err = store.migrate().await.unwrap_err();
    assert!(matches!(err, Error::Migration(_)), "{err:?}");
    assert!(err.to_string().contains("missing"), "{err}");
    let status = store.migration_status().await?;
    let future = status.last().expect("listed");
    assert_eq!(
        (future.version, future.known, future.applied),
        (99_991_231_000_000, false, true)
    );
    assert_eq!(store.schema_version().await?, Some(99_991_231_000_000));
    Ok(())
}

/// The migration that replaced the usage tables' foreign keys (20261130000001; SQLite
/// rebuilds both tables) keeps their rows, and deleting a user still deletes its usage.
/// On MySQL the usage tables never had foreign keys, and that migration adds the triggers
/// that delete a deleted user's usage.
async fn upgrading_keeps_usage_rows_and_their_deletion_cascade<B: TestBackend>() -> eyre::Result<()>
{
    let (store, url, _cleanup) = fresh::<B>().await?;
    store.migrate_to(20_261_129_000_002).await?;
    let old_shape = old_versions_keep_their_shape::<B>();
    let foreign_keys = B::raw_i64(&url, B::of(USAGE_FOREIGN_KEYS)).await?;
    assert_eq!(foreign_keys, if old_shape { 2 } else { 0 });
    let mut users = Vec::new();
    for name in ["stays", "goes"] {
        let user = store
            .create_user(&User::new(&format!("{name}@example.com"), "hash"))
            .await?;
        let key = store
            .create_api_key(&ApiKey::new(user, "k", &format!("hash-{name}"), "pk_"))
            .await?;
        for _ in 0..3 {
            store
                .record_api_usage(&ApiKeyUsage::new(key, "/mcp", "POST", 200))
                .await?;
            store
                .record_jwt_usage(&JwtUsage::new(user, "/jwt", "GET", 200))
                .await?;
        }
        users.push(user);
    }

    store.migrate().await?;
    assert!(store.schema_version().await? > Some(20_261_129_000_002));
    assert_eq!(B::raw_i64(&url, B::of(USAGE_FOREIGN_KEYS)).await?, 0);
    assert_eq!(B::raw_count(&url, "api_key_usage").await?, 6);
    assert_eq!(B::raw_count(&url, "jwt_usage").await?, 6);
    assert_eq!(store.get_usage_stats(users[0]).await?.total_requests, 3);

    assert!(store.delete_user(users[1]).await?);
    assert_eq!(B::raw_count(&url, "api_key_usage").await?, 3);
    assert_eq!(B::raw_count(&url, "jwt_usage").await?, 3);
    // Recording works on the upgraded tables.
    let key = store.get_api_keys_for_user(users[0]).await?[0].id;
    store
        .record_api_usage(&ApiKeyUsage::new(key, "/mcp", "POST", 200))
        .await?;
    assert_eq!(store.get_usage_stats(users[0]).await?.total_requests, 4);
    Ok(())
}

/// The migration that stops a tenant owner's deletion from cascading (20261201000002;
/// SQLite rebuilds `tenants` and `activities`) keeps every tenant and activity, soft-deleted
/// ones included; afterwards the foreign keys are still enforced, deleting an owner is
/// refused, and deleting a tenant still removes its activities. The activities are written
/// with raw SQL by that version's column names (`activity_type`, renamed `type` since; on
/// MySQL, where that version already has the final shape, `type`).
async fn upgrading_keeps_tenants_and_activities_and_stops_owner_deletion<B: TestBackend>()
-> eyre::Result<()> {
    let (store, url, _cleanup) = fresh::<B>().await?;
    store.migrate_to(20_261_130_000_002).await?;
    let old_shape = old_versions_keep_their_shape::<B>();
    let cascades = B::raw_i64(&url, B::of(OWNER_DELETION_CASCADES)).await?;
    assert_eq!(cascades, i64::from(old_shape), "owner deletion cascades");
    assert_shape_at_old_version::<B>(
        &url,
        &["SELECT activity_type FROM activities WHERE 1 = 0"],
        &["SELECT type FROM activities WHERE 1 = 0"],
    )
    .await;
    let owner = store
        .create_user(&User::new("owner@example.com", "h"))
        .await?;
    let member = store
        .create_user(&User::new("member@example.com", "h"))
        .await?;
    let mut tenants = Vec::new();
    let mut hidden = None;
    for slug in ["one", "two"] {
        let tenant = Tenant::new(slug, slug, owner);
        store.create_tenant(&tenant).await?;
        for (n, user) in [owner, member, member].into_iter().enumerate() {
            let id = ActivityId::new();
            // One of the member's activities in the first tenant is soft-deleted.
            let deleted = slug == "one" && n == 2;
            if deleted {
                hidden = Some(id);
            }
            let insert = format!(
                "INSERT INTO activities (id, tenant_id, user_id, name, {type_column}, distance,
                    duration, start_date, created_at, updated_at, deleted_at)
                 SELECT {id}, id, {user}, 'Run', 'run', 2.5, 600, created_at, created_at,
                    created_at, {deleted_at}
                 FROM tenants WHERE slug = '{slug}'",
                id = id_literal::<B>(id),
                user = id_literal::<B>(user),
                deleted_at = if deleted { "created_at" } else { "NULL" },
                // Renamed `type` by 20261202000004; MySQL's schema starts with that name.
                type_column = B::of(PerBackend {
                    sqlite: "activity_type",
                    postgres: "activity_type",
                    mysql: "type",
                }),
            );
            B::raw_execute(&url, Box::leak(insert.into_boxed_str())).await?;
        }
        tenants.push(tenant);
    }
    let hidden = hidden.expect("one activity soft-deleted");

    store.migrate().await?;
    assert!(store.schema_version().await? > Some(20_261_130_000_002));
    assert_eq!(B::raw_i64(&url, B::of(OWNER_DELETION_CASCADES)).await?, 0);
    assert_eq!(B::raw_count(&url, "tenants").await?, 2);
    assert_eq!(
        B::raw_count(&url, "activities").await?,
        6,
        "soft-deleted row kept"
    );
    for tenant in &tenants {
        assert_eq!(store.get_tenant(tenant.id).await?.as_ref(), Some(tenant));
    }
    assert_eq!(
        store
            .get_user_activities(tenants[0].id, member, 10)
            .await?
            .len(),
        1
    );
    assert_eq!(
        store
            .get_user_activities(tenants[1].id, member, 10)
            .await?
            .len(),
        2
    );
    assert_eq!(store.get_activity(tenants[0].id, hidden).await?, None);

    // Foreign keys still enforced.
    let err = store
        .create_activity(
            TenantId::new(),
            &Activity::new(member, "Run", "run", 1.0, 1, tenants[0].created_at),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(
        B::raw_execute(
            &url,
            "INSERT INTO tenants (id, name, slug, plan, owner_user_id, is_active, created_at,
                updated_at)
             SELECT id, 'x', 'x', 'starter', '00000000-0000-0000-0000-000000000000', TRUE, created_at, updated_at
             FROM activities LIMIT 1",
        )
        .await
        .is_err(),
        "owner must exist"
    );

    let err = store.delete_user(owner).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    assert_eq!(B::raw_count(&url, "activities").await?, 6);

    let deleted = store.delete_tenant(tenants[1].id).await?;
    assert_eq!(deleted.activities, 3);
    assert_eq!(B::raw_count(&url, "activities").await?, 3);
    Ok(())
}

/// The last schema version before `user_oauth_tokens` had the seed's `id`,
/// `access_token_encrypted` and `refresh_token_encrypted` columns.
const BEFORE_SEED_TOKEN_COLUMNS: i64 = 20_261_201_000_005;

/// `id` as an SQL literal of this backend's id columns.
fn id_literal<B: TestBackend>(id: impl std::fmt::Display) -> String {
    B::of(PerBackend {
        sqlite: "'{id}'",
        postgres: "'{id}'::uuid",
        mysql: "'{id}'",
    })
    .replace("{id}", &id.to_string())
}

/// `bytes` as an SQL literal of this backend.
fn bytes_literal<B: TestBackend>(bytes: Option<&[u8]>) -> String {
    bytes.map_or_else(
        || "NULL".to_owned(),
        |bytes| {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            B::of(PerBackend {
                sqlite: "X'{hex}'",
                postgres: "'\\x{hex}'::bytea",
                mysql: "X'{hex}'",
            })
            .replace("{hex}", &hex)
        },
    )
}

/// The migration that gives `user_oauth_tokens` the seed's column names and its own `id`
/// (20261202000001; SQLite rebuilds the table) keeps every token, each still decrypting
/// (the ciphertexts' associated data names the token, not the column), gives every row a
/// distinct id, and leaves usage rows alone. The tokens are sealed by this build's store
/// (on a second, current database with the same key and user ids) and written into the
/// old columns with raw SQL, as a database of the previous release holds them. On MySQL,
/// where that version already has the seed's columns, they are written into those, each row
/// with a fresh version 4 id as the other backends' migration gives it.
async fn upgrading_names_token_columns_as_the_seed_and_every_token_still_decrypts<
    B: TestBackend,
>() -> eyre::Result<()> {
    let sealer = TestDb::<B>::new().await?;
    let (url, _cleanup) = B::fresh_database().await?;
    let store = Store::<B>::new(&url, sealer.key.clone()).await?;
    store.migrate_to(BEFORE_SEED_TOKEN_COLUMNS).await?;
    assert_shape_at_old_version::<B>(
        &url,
        &["SELECT access_token, refresh_token FROM user_oauth_tokens WHERE 1 = 0"],
        &[
            "SELECT id, access_token_encrypted, refresh_token_encrypted FROM user_oauth_tokens
             WHERE 1 = 0",
        ],
    )
    .await;
    let old_shape = old_versions_keep_their_shape::<B>();

    let expires_at = OffsetDateTime::from_unix_timestamp(1_790_000_000)?;
    let token = |access: &str, refresh: Option<&str>| OAuthToken {
        access_token: access.into(),
        refresh_token: refresh.map(Into::into),
        expires_at: Some(expires_at),
        scope: Some("read".into()),
    };
    let mut expected = Vec::new();
    for (n, providers) in [
        vec![OAuthProvider::Strava, OAuthProvider::Fitbit],
        vec![OAuthProvider::Garmin],
    ]
    .into_iter()
    .enumerate()
    {
        let user = User::new(&format!("user{n}@example.com"), "hash");
        store.create_user(&user).await?;
        sealer.store.create_user(&user).await?;
        let key = store
            .create_api_key(&ApiKey::new(user.id, "k", &format!("hash-{n}"), "pk_"))
            .await?;
        store
            .record_api_usage(&ApiKeyUsage::new(key, "/mcp", "POST", 200))
            .await?;
        store
            .record_jwt_usage(&JwtUsage::new(user.id, "/jwt", "GET", 200))
            .await?;
        for provider in providers {
            let refresh = (provider != OAuthProvider::Fitbit).then_some("refresh-secret");
            let token = token(&format!("access-{n}-{provider}"), refresh);
            sealer
                .store
                .upsert_oauth_token(user.id, provider, &token)
                .await?;
            let (access, refresh) =
                B::raw_token_columns(&sealer.url, user.id, provider.as_str()).await?;
            let (id_column, id_value, columns) = if old_shape {
                ("", String::new(), "access_token, refresh_token")
            } else {
                let id = id_literal::<B>(uuid::Uuid::new_v4());
                (
                    "id, ",
                    format!("{id}, "),
                    "access_token_encrypted, refresh_token_encrypted",
                )
            };
            let insert = format!(
                "INSERT INTO user_oauth_tokens ({id_column}user_id, provider, {columns},
                    expires_at, scope, created_at, updated_at)
                 SELECT {id_value}id, '{provider}', {access}, {refresh}, {expires}, 'read',
                    created_at, created_at
                 FROM users WHERE id = {user}",
                provider = provider.as_str(),
                access = bytes_literal::<B>(Some(&access)),
                refresh = bytes_literal::<B>(refresh.as_deref()),
                expires = B::of(PerBackend {
                    sqlite: "1790000000000000",
                    postgres: "to_timestamp(1790000000)",
                    mysql: "FROM_UNIXTIME(1790000000)"
                }),
                user = id_literal::<B>(user.id),
            );
            B::raw_execute(&url, Box::leak(insert.into_boxed_str())).await?;
            expected.push((user.id, provider, token));
        }
    }

    store.migrate().await?;
    let rows = B::raw_token_rows(&url).await?;
    assert!(store.schema_version().await? > Some(BEFORE_SEED_TOKEN_COLUMNS));
    for (user, provider, token) in &expected {
        assert!(
            store.get_oauth_token(*user, *provider).await?.as_ref() == Some(token),
            "{user} {provider} decrypts after the upgrade"
        );
    }
    assert_eq!(rows.len(), expected.len());
    let ids: BTreeSet<_> = rows.iter().map(|row| row.id).collect();
    assert_eq!(ids.len(), rows.len(), "distinct ids: {ids:?}");
    assert!(
        rows.iter().all(|row| row.id.get_version_num() == 4),
        "{ids:?}"
    );
    for old in ["access_token", "refresh_token"] {
        let sql = format!("SELECT {old} FROM user_oauth_tokens");
        assert!(
            B::raw_execute(&url, Box::leak(sql.into_boxed_str()))
                .await
                .is_err(),
            "column {old} is gone"
        );
    }
    assert_eq!(B::raw_count(&url, "api_key_usage").await?, 2);
    assert_eq!(B::raw_count(&url, "jwt_usage").await?, 2);
    assert_eq!(
        store.get_usage_stats(expected[0].0).await?.total_requests,
        1
    );

    // Replacing a token keeps its row id; the user's cascade still deletes its tokens.
    let (user, provider, _) = &expected[0];
    let id_of = |rows: &[RawTokenRow]| {
        rows.iter()
            .find(|row| row.user_id == *user && row.provider == provider.as_str())
            .map(|row| row.id)
    };
    let replaced = token("replaced", None);
    store
        .upsert_oauth_token(*user, *provider, &replaced)
        .await?;
    assert!(store.get_oauth_token(*user, *provider).await? == Some(replaced));
    let after: Vec<_> = B::raw_token_rows(&url).await?;
    assert_eq!(id_of(&after), id_of(&rows));
    assert_eq!(after.iter().map(|row| row.id).collect::<BTreeSet<_>>(), ids);
    assert!(store.delete_user(*user).await?);
    assert_eq!(B::raw_token_rows(&url).await?.len(), 1);
    Ok(())
}

/// Every column of the seed's tables (`shared/seed-database-layer.md`: its schema section,
/// and for `activities` the columns its queries name), by the seed's names.
const SEED_COLUMNS: [(&str, &str); 8] = [
    (
        "users",
        "id, email, password_hash, firstname, lastname, status, is_admin, tier, \
         rate_limit_multiplier, created_at, updated_at, last_active, approved_at, approved_by, \
         suspended_at, suspended_by, suspension_reason",
    ),
    (
        "user_oauth_tokens",
        "id, user_id, provider, access_token_encrypted, refresh_token_encrypted, expires_at, \
         scope, created_at, updated_at",
    ),
    (
        "api_keys",
        "id, user_id, name, key_hash, key_prefix, tier, scopes, is_active, last_used, \
         usage_count, rate_limit_override, expires_at, created_at, metadata",
    ),
    (
        "tenants",
        "id, name, slug, domain, plan, owner_user_id, is_active, created_at, updated_at",
    ),
    (
        "a2a_clients",
        "id, name, api_key_hash, capabilities, rate_limit_per_day, is_active, created_at, \
         last_used, metadata",
    ),
    (
        "api_key_usage",
        "id, api_key_id, timestamp, endpoint, method, status_code, response_time_ms, \
         request_size_bytes, response_size_bytes, ip_address, user_agent, error_message",
    ),
    (
        "jwt_usage",
        "id, user_id, timestamp, endpoint, method, status_code, response_time_ms, \
         request_size_bytes, response_size_bytes, ip_address, user_agent",
    ),
    (
        "activities",
        "id, tenant_id, user_id, name, type, distance, duration, start_date, created_at, \
         updated_at, deleted_at",
    ),
];

/// Readers outside the library (operators with `sqlite3` / `psql`, the origin server's SQL,
/// analytics) use the seed's names: each seed column is selectable by its name, with raw
/// SQL, on a freshly migrated database of either backend.
async fn every_seed_column_exists_by_its_seed_name<B: TestBackend>() -> eyre::Result<()> {
    let db = TestDb::<B>::new().await?;
    for (table, columns) in SEED_COLUMNS {
        let sql = format!("SELECT {columns} FROM {table} WHERE 1 = 0");
        B::raw_execute(&db.admin_url(), Box::leak(sql.into_boxed_str()))
            .await
            .map_err(|err| eyre::eyre!("{table}: {err}"))?;
    }
    Ok(())
}
