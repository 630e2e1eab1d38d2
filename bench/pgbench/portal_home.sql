-- The limit of `portal_home`: the partner user with partner and tier, the partner's newest
-- 20 registrations with products and conflict candidates, the count, and the newest 20
-- content items the partner may see with their labels.
WITH me AS (
  SELECT u.name, p.name AS partner, p.tier_id, t.name AS tier, COALESCE(t.rank, 0) AS rank
    FROM users u JOIN partners p ON p.id = u.partner_id LEFT JOIN tiers t ON t.id = p.tier_id
   WHERE u.partner_id = :partner ORDER BY u.id LIMIT 1),
page AS (
  SELECT r.* FROM deal_registrations r
   WHERE r.id IN (SELECT id FROM deal_registrations WHERE partner_id = :partner
                   ORDER BY id DESC LIMIT 20)),
candidates AS (
  SELECT c.id, c.partner_id, c.customer_name_key, c.customer_domain, c.customer_name_token,
         c.customer_root, c.status
    FROM deal_registrations c
   WHERE c.status IN ('SUBMITTED', 'UNDER_REVIEW', 'APPROVED')
     AND (c.customer_name_token IN (SELECT customer_name_token FROM page)
          OR c.customer_root IN (SELECT customer_root FROM page))),
known AS (
  SELECT a.id, a.name_key, a.name_token, a.ownership, d.domain, d.root
    FROM accounts a LEFT JOIN account_domains d ON d.account_id = a.id
   WHERE a.name_token IN (SELECT customer_name_token FROM page)
      OR a.id IN (SELECT account_id FROM account_domains WHERE root IN (SELECT customer_root FROM page))),
shelf AS (
  SELECT c.id, c.title, c.kind FROM contents c
   WHERE NOT c.internal_only AND (c.min_tier_rank IS NULL OR c.min_tier_rank <= (SELECT rank FROM me))
     AND NOT EXISTS (SELECT 1 FROM content_audience a WHERE a.content_id = c.id AND a.dimension = 'REGION')
   ORDER BY c.updated_at DESC, c.id DESC LIMIT 20)
SELECT (SELECT row_to_json(me) FROM me) AS me,
       (SELECT sum(registrations) FROM partner_registration_counts WHERE partner_id = :partner) AS total,
       (SELECT json_agg(json_build_object(
                 'id', p.id, 'status', p.status, 'customer', p.customer_name,
                 'domain', p.customer_domain, 'value', p.estimated_value_minor, 'currency', p.currency,
                 'products', (SELECT json_agg(pr.name ORDER BY pr.id)
                                FROM deal_registration_products rp JOIN products pr ON pr.id = rp.product_id
                               WHERE rp.registration_id = p.id),
                 'candidates', (SELECT json_agg(json_build_object('id', c.id, 'partner', c.partner_id,
                                   'key', c.customer_name_key, 'status', c.status,
                                   'products', (SELECT json_agg(x.product_id) FROM deal_registration_products x
                                                 WHERE x.registration_id = c.id)))
                                  FROM candidates c
                                 WHERE c.id <> p.id AND (c.customer_name_token = p.customer_name_token
                                                         OR c.customer_root = p.customer_root)),
                 'accounts', (SELECT json_agg(json_build_object('id', k.id, 'ownership', k.ownership))
                                FROM known k
                               WHERE k.name_token = p.customer_name_token OR k.root = p.customer_root))
               ORDER BY p.id DESC) FROM page p) AS page,
       (SELECT json_agg(json_build_object('id', s.id, 'title', s.title, 'kind', s.kind,
                 'labels', (SELECT json_agg(l.value) FROM content_labels l WHERE l.content_id = s.id)))
          FROM shelf s) AS contents;
