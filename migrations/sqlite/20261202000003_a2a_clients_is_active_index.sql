-- The seed's index on a2a_clients(is_active), widened to (is_active, id): it serves
-- Store::list_a2a_clients filtered by active state, an equality on is_active and a keyset
-- range on id read in index order (no sort). The seed's other indexes on flags and usage
-- columns (api_keys(is_active), api_key_usage(endpoint), api_key_usage(status_code),
-- jwt_usage(endpoint)) are left out: no query of the store would use them, and each costs
-- every insert (figures and query plans in the README, section "Indexes").
CREATE INDEX idx_a2a_clients_is_active_id ON a2a_clients (is_active, id);
