-- The limit of `partner_registrations`: a partner's newest 20 registrations with their
-- products, and how many it has (the count the server keeps, as the server reads it). The
-- page's ids come first from the (partner, id) index, as the server reads them: the prepared
-- (generic) plan of a plain `ORDER BY id DESC LIMIT 20` sorts all the partner's rows.
SELECT (SELECT sum(registrations) FROM partner_registration_counts WHERE partner_id = :partner) AS total,
       (SELECT json_agg(page ORDER BY page.id DESC) FROM (
          SELECT r.id, r.status, r.customer_name, r.customer_domain, r.estimated_value_minor, r.currency,
                 (SELECT json_agg(json_build_object('name', pr.name) ORDER BY pr.id)
                    FROM deal_registration_products rp JOIN products pr ON pr.id = rp.product_id
                   WHERE rp.registration_id = r.id) AS products
            FROM deal_registrations r
           WHERE r.id IN (SELECT id FROM deal_registrations WHERE partner_id = :partner
                           ORDER BY id DESC LIMIT 20)) page) AS page;
