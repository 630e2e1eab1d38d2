-- The limit of `content_search`: the 20 best matches a partner may see, with their labels.
SELECT json_agg(found) FROM (
  SELECT c.id, c.title, c.kind,
         (SELECT json_agg(l.value) FROM content_labels l WHERE l.content_id = c.id) AS labels
    FROM contents c
   WHERE c.search_vector @@ plainto_tsquery('english', :search) AND NOT c.internal_only
   ORDER BY ts_rank(c.search_vector, plainto_tsquery('english', :search)) DESC, c.id
   LIMIT 20) found;
