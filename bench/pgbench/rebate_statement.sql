-- The limit of `rebate_statement`: the program, whether the partner is in it, its won
-- revenue in the program's period and what was paid, in one statement.
SELECT rp.*,
       EXISTS (SELECT 1 FROM rebate_eligibility e JOIN partners p ON p.id = :rebate_partner
                WHERE e.program_id = rp.id AND (e.partner_id = p.id OR e.tier_id = p.tier_id)) AS eligible,
       (SELECT COALESCE(SUM(closed_amount_minor), 0) FROM deal_registrations
         WHERE partner_id = :rebate_partner AND status = 'WON' AND currency = rp.currency
           AND closed_at >= rp.period_start) AS measure,
       (SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_entries
         WHERE program_id = rp.id AND partner_id = :rebate_partner AND kind = 'PAYOUT') AS paid
  FROM rebate_programs rp WHERE rp.id = :program;
