-- Tenant-scoped reads of `activities` in one round trip. Each function sets
-- `pierre.tenant_id` for the current transaction (set_config with is_local), then runs its
-- query, so the row-level security policy admits only that tenant's rows, as it does in the
-- store's BEGIN / set_config / statement / COMMIT scope, which costs four round trips. The
-- store calls them as single statements outside any explicit transaction: the setting ends
-- with the statement. SECURITY INVOKER (the default): the caller's role, and so the policy,
-- applies to the query.
CREATE FUNCTION scoped_activity(p_tenant uuid, p_id uuid)
RETURNS SETOF activities LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('pierre.tenant_id', p_tenant::text, true);
    RETURN QUERY
        SELECT * FROM activities
        WHERE tenant_id = p_tenant AND id = p_id AND deleted_at IS NULL;
END
$$;

CREATE FUNCTION scoped_user_activities(p_tenant uuid, p_user uuid, p_limit bigint)
RETURNS SETOF activities LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('pierre.tenant_id', p_tenant::text, true);
    RETURN QUERY
        SELECT * FROM activities
        WHERE tenant_id = p_tenant AND user_id = p_user AND deleted_at IS NULL
        ORDER BY start_date DESC, id
        LIMIT p_limit;
END
$$;

CREATE FUNCTION scoped_user_stats(p_tenant uuid, p_user uuid)
RETURNS TABLE (
    total_activities bigint,
    total_distance   double precision,
    total_time       bigint,
    avg_distance     double precision,
    first_activity   timestamptz,
    last_activity    timestamptz
) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('pierre.tenant_id', p_tenant::text, true);
    RETURN QUERY
        SELECT COUNT(*), SUM(a.distance), SUM(a.duration)::bigint, AVG(a.distance),
            MIN(a.start_date), MAX(a.start_date)
        FROM activities a
        WHERE a.tenant_id = p_tenant AND a.user_id = p_user AND a.deleted_at IS NULL;
END
$$;
