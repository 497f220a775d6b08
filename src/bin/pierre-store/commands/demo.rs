//! `demo`: shows the store working end to end on a little seeded data.

use base64::Engine;
use chacha20poly1305::aead::{OsRng, rand_core::RngCore};
use eyre::bail;
use pierre_store::{
    Activity, ApiKeyTier, ApiKeyUsage, Backend, JwtUsage, Store, Tenant, User, UserStatus, password,
};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::{backends::AdminBackend, output::Output};

const EMAIL: &str = "demo@pierre.example";
const SLUG: &str = "demo-club";
/// The fixed password earlier releases gave the demo user (and printed).
const OLD_PASSWORD: &str = "demo password";
/// Random bytes in the demo user's password (144 bits, 24 base64url characters).
const PASSWORD_BYTES: usize = 18;

/// Seeds the demo data the first time, then prints the demo user's statistics. Seeding
/// refuses a database that holds other users unless `force`: the demo user is an active
/// account, and its password (random, printed once) is known to whoever saw the output.
pub async fn demo<B: AdminBackend>(store: &Store<B>, force: bool, out: Output) -> eyre::Result<()> {
    let user = match store.get_user_by_email(EMAIL).await? {
        Some(user)
            if store
                .verify_user_password(EMAIL, OLD_PASSWORD)
                .await?
                .is_some() =>
        {
            if !force {
                bail!(
                    "the demo account {EMAIL} still has the password {OLD_PASSWORD:?} that \
                     earlier releases gave it and printed: anyone can log in with it. Pass \
                     --force to replace the demo data (tenant {SLUG} with its activities, and \
                     user {EMAIL} with its token, API key and usage) by a fresh seed with a \
                     random password"
                );
            }
            if let Some(tenant) = store.get_tenant_by_slug(SLUG).await? {
                store.delete_tenant(tenant.id).await?;
            }
            store.delete_user(user.id).await?;
            out.say(format!(
                "removed the old demo data: {EMAIL} had the fixed password of earlier releases"
            ));
            seed(store, out).await?
        }
        Some(user) => {
            out.say(format!(
                "demo data already present (user {EMAIL}; its password was printed when it was seeded)"
            ));
            user
        }
        None => {
            let users = store
                .table_counts()
                .await?
                .rows
                .iter()
                .find_map(|&(table, rows)| (table == "users").then_some(rows))
                .unwrap_or_default();
            if users > 0 && !force {
                bail!(
                    "this database already holds {users} user{}: demo would add an active account \
                     whose password it prints. Run demo on a database of its own \
                     (--database-url), or pass --force to seed this one anyway",
                    if users == 1 { "" } else { "s" }
                );
            }
            seed(store, out).await?
        }
    };
    let tenant = store
        .get_tenant_by_slug(SLUG)
        .await?
        .ok_or_else(|| eyre::eyre!("demo tenant {SLUG} is missing"))?;

    let token = store
        .get_strava_token(user.id)
        .await?
        .ok_or_else(|| eyre::eyre!("demo Strava token is missing"))?;
    out.say(format!(
        "strava token: decrypted fine (expires {}, scope {})",
        token
            .expires_at
            .map_or_else(|| "never".into(), |t| t.to_string()),
        token.scope.unwrap_or_default()
    ));

    let usage = store.get_usage_stats(user.id).await?;
    out.say("usage stats (all API keys of the demo user):");
    out.say(format!(
        "  requests {} (ok {}, failed {}), mean response {} ms",
        usage.total_requests,
        usage.successful_requests,
        usage.failed_requests,
        usage
            .average_response_time_ms
            .map_or_else(|| "-".into(), |ms| format!("{ms:.1}"))
    ));
    let stats = store.get_user_stats(tenant.id, user.id).await?;
    out.say(format!("activity stats (tenant {}):", tenant.slug));
    out.say(format!(
        "  {} activities, {:.1} km, {} min, {:.1} km on average",
        stats.total_activities,
        stats.total_distance / 1000.0,
        stats.total_time / 60,
        stats.avg_distance / 1000.0
    ));
    for activity in store.get_user_activities(tenant.id, user.id, 3).await? {
        out.say(format!(
            "  {}  {:<8} {:>6.1} km  {}",
            activity.start_date.date(),
            activity.activity_type,
            activity.distance / 1000.0,
            activity.name
        ));
    }
    Ok(())
}

async fn seed<B: Backend>(store: &Store<B>, out: Output) -> eyre::Result<User> {
    let mut bytes = Zeroizing::new([0_u8; PASSWORD_BYTES]);
    OsRng.fill_bytes(bytes.as_mut());
    let demo_password =
        Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref()));
    let mut user = User::new(EMAIL, &password::hash(&demo_password).await?);
    user.firstname = Some("Demo".into());
    user.status = UserStatus::Active;
    store.create_user(&user).await?;
    let tenant = Tenant::new("Demo running club", SLUG, user.id);
    store.create_tenant(&tenant).await?;
    store
        .update_strava_token(
            user.id,
            "demo-strava-access-token",
            "demo-strava-refresh-token",
            OffsetDateTime::now_utc() + Duration::hours(6),
            "read,activity:read_all".into(),
        )
        .await?;
    let (key, _plaintext) = store
        .issue_api_key(
            user.id,
            "demo key",
            ApiKeyTier::Standard,
            vec!["read".into()],
            None,
        )
        .await?;
    let now = OffsetDateTime::now_utc();
    for n in 0..20_u16 {
        let status = if n % 7 == 6 { 500 } else { 200 };
        let usage = ApiKeyUsage {
            timestamp: now - Duration::minutes(i64::from(n) * 5),
            response_time_ms: Some(40 + u32::from(n) * 3),
            ..ApiKeyUsage::new(key.id, "/mcp/tools/get_activities", "POST", status)
        };
        store.record_api_usage(&usage).await?;
    }
    store
        .record_jwt_usage(&JwtUsage::new(
            user.id,
            "/oauth/strava/callback",
            "GET",
            302,
        ))
        .await?;
    let runs = [
        ("Morning run", "run", 8_200.0, 2_700, 1),
        ("Long ride", "ride", 64_500.0, 9_000, 3),
        ("Intervals", "run", 6_000.0, 1_900, 5),
        ("Recovery jog", "run", 4_100.0, 1_600, 6),
    ];
    for (name, kind, meters, seconds, days_ago) in runs {
        let activity = Activity::new(
            user.id,
            name,
            kind,
            meters,
            seconds,
            now - Duration::days(days_ago),
        );
        store.create_activity(tenant.id, &activity).await?;
    }
    out.say(format!(
        "seeded: tenant {SLUG}, user {EMAIL}, a Strava token, API key {}…, 20 usage rows, 4 activities",
        key.key_prefix
    ));
    out.say(format!(
        "demo user password (shown once): {}",
        demo_password.as_str()
    ));
    Ok(user)
}
