-- The limit of `review_queue`: the first 50 registrations awaiting review with partner,
-- tier and products, each with its conflict candidates (active registrations and accounts
-- sharing its customer's name token or domain root, with their products), and the count.
WITH page AS (
  SELECT r.* FROM deal_registrations r WHERE r.review_lane IS NOT NULL
   ORDER BY r.review_lane, r.submitted_at, r.id LIMIT 50),
candidates AS (
  SELECT c.id, c.partner_id, c.customer_name_key, c.customer_domain, c.customer_name_token,
         c.customer_root, c.submitted_at, c.status
    FROM deal_registrations c
   WHERE c.status IN ('SUBMITTED', 'UNDER_REVIEW', 'APPROVED')
     AND (c.customer_name_token IN (SELECT customer_name_token FROM page)
          OR c.customer_root IN (SELECT customer_root FROM page))),
known AS (
  SELECT a.id, a.name_key, a.name_token, a.ownership, a.is_customer, d.domain, d.root
    FROM accounts a LEFT JOIN account_domains d ON d.account_id = a.id
   WHERE a.name_token IN (SELECT customer_name_token FROM page)
      OR a.id IN (SELECT account_id FROM account_domains WHERE root IN (SELECT customer_root FROM page)))
SELECT (SELECT count(*) FROM deal_registrations WHERE review_lane IS NOT NULL) AS total,
       (SELECT json_agg(json_build_object(
                 'id', p.id, 'status', p.status, 'customer', p.customer_name,
                 'domain', p.customer_domain, 'value', p.estimated_value_minor,
                 'currency', p.currency, 'partner', pa.name, 'tier', t.name,
                 'products', (SELECT json_agg(pr.name ORDER BY pr.id)
                                FROM deal_registration_products rp JOIN products pr ON pr.id = rp.product_id
                               WHERE rp.registration_id = p.id),
                 'candidates', (SELECT json_agg(json_build_object(
                                   'id', c.id, 'partner', c.partner_id, 'key', c.customer_name_key,
                                   'domain', c.customer_domain, 'status', c.status,
                                   'products', (SELECT json_agg(x.product_id)
                                                  FROM deal_registration_products x
                                                 WHERE x.registration_id = c.id)))
                                  FROM candidates c
                                 WHERE c.id <> p.id AND (c.customer_name_token = p.customer_name_token
                                                         OR c.customer_root = p.customer_root)),
                 'accounts', (SELECT json_agg(json_build_object('id', k.id, 'key', k.name_key,
                                   'ownership', k.ownership, 'domain', k.domain))
                                FROM known k
                               WHERE k.name_token = p.customer_name_token OR k.root = p.customer_root))
               ORDER BY p.review_lane, p.submitted_at, p.id)
          FROM page p JOIN partners pa ON pa.id = p.partner_id LEFT JOIN tiers t ON t.id = pa.tier_id) AS page;
