-- The limit of `registration_by_id`: one registration, drawn as the HTTP load draws it,
-- with its customer, value, products and partner, in one prepared statement.
\set id random(1, :ids)
SELECT r.id, r.status, r.customer_name, r.customer_domain, r.estimated_value_minor, r.currency,
       p.name AS partner,
       (SELECT json_agg(json_build_object('name', pr.name) ORDER BY pr.id)
          FROM deal_registration_products rp JOIN products pr ON pr.id = rp.product_id
         WHERE rp.registration_id = r.id) AS products
  FROM deal_registrations r JOIN partners p ON p.id = r.partner_id
 WHERE r.id = :id;
