//! The keys' postings: how many registrations and accounts hold each blocking key (the
//! matcher's rarity), who holds the keys few hold, and the program's score bands
//! (`conflictBands`), read in one statement for any number of probes.

use std::collections::{HashMap, HashSet};

use entity::setting;
use sea_orm::sea_query::{Alias, Condition, Expr, JoinType, Query, SelectStatement, UnionType};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult};

use super::candidates::{Holder, Owner};
use super::matching::Bands;
use crate::db;
use crate::error::{AppError, AppResult};

/// A key held by more customers than this finds no candidates (it still weighs as common):
/// one customer's registrations are far fewer, and the holders of common words and sounds
/// were most of what a check read (at 200 holders, a 50-prospect check at 200,000
/// registrations read so many rows that it took 60 ms).
const PER_KEY: i64 = 30;

/// A domain or joined-name key names one customer: its holders are listed up to this many
/// (more active registrations of one customer than this find it by its other keys only).
pub(super) const PER_CUSTOMER_KEY: i64 = 500;

/// How many hold the keys too common to list their holders, remembered for a while by
/// each replica. Counting them was most of a check's work in the database: at 200,000
/// registrations a check's 13 keys read 1,859 index entries, 1,754 of them for two keys
/// ("food" and its sound) whose holders are never listed, and only their weight is used,
/// which stops changing from about 800 holders (`rarity_from_postings`). A key is
/// remembered only above `PER_CUSTOMER_KEY` holders, where no holder is ever listed, so
/// nothing a check finds depends on it; its weight may lag by `FRESH` seconds of growth.
mod common {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    use std::time::{Duration, Instant};

    use lru::LruCache;

    /// How long a count is used.
    const FRESH: Duration = Duration::from_secs(60);
    /// Common keys remembered (each a key and a count: a few MB at most).
    const KEPT: usize = 20_000;

    static COUNTS: LazyLock<Mutex<LruCache<String, (u64, Instant)>>> = LazyLock::new(|| {
        Mutex::new(LruCache::new(
            std::num::NonZeroUsize::new(KEPT).expect("KEPT is not zero"),
        ))
    });

    /// The remembered counts among `keys` still fresh.
    pub(super) fn known(keys: &[String]) -> HashMap<String, u64> {
        let Ok(mut counts) = COUNTS.lock() else {
            return HashMap::new();
        };
        keys.iter()
            .filter_map(|key| {
                let (count, at) = *counts.get(key)?;
                (at.elapsed() < FRESH).then(|| (key.clone(), count))
            })
            .collect()
    }

    /// Remembers the keys of `read` held by more than `PER_CUSTOMER_KEY`.
    pub(super) fn remember(read: &HashMap<String, u64>) {
        let common = read
            .iter()
            .filter(|(_, count)| **count > super::PER_CUSTOMER_KEY as u64);
        let Ok(mut counts) = COUNTS.lock() else {
            return;
        };
        let now = Instant::now();
        for (key, count) in common {
            counts.put(key.clone(), (*count, now));
        }
    }
}

/// How many hold each key, who holds the keys few hold, and the program's bands.
pub(super) struct Postings {
    pub(super) counts: HashMap<String, u64>,
    rows: Vec<Posting>,
    pub(super) bands: Bands,
}

impl Postings {
    /// The postings of `keys`: those of common keys from memory when known, the others
    /// from the database.
    pub(super) async fn read(db: &impl ConnectionTrait, keys: &[String]) -> AppResult<Postings> {
        let mut counts = common::known(keys);
        let asked: Vec<String> = keys
            .iter()
            .filter(|key| !counts.contains_key(*key))
            .cloned()
            .collect();
        let rows = read_postings(db, &asked).await?;
        // Without a row there is no candidate, and nothing to decide by the bands.
        let bands = parse_bands(rows.first().and_then(|row| row.bands.as_deref()));
        let mut counted: HashSet<(&str, i32)> = HashSet::new();
        let mut read: HashMap<String, u64> = HashMap::new();
        for row in &rows {
            // Each row of a key repeats its count for that table; registrations and accounts
            // add up.
            if counted.insert((row.key.as_str(), row.account)) {
                *read.entry(row.key.clone()).or_default() += row.postings.max(0) as u64;
            }
        }
        common::remember(&read);
        counts.extend(read);
        Ok(Postings {
            counts,
            rows,
            bands,
        })
    }

    /// How many hold each key, and the bands, without the holders' rows.
    pub(super) fn into_counts_and_bands(self) -> (HashMap<String, u64>, Bands) {
        (self.counts, self.bands)
    }

    /// The listed holders of each key, with a registration's partner.
    pub(super) fn holders(&self) -> HashMap<&str, Vec<Holder>> {
        let mut holders: HashMap<&str, Vec<Holder>> = HashMap::new();
        for row in &self.rows {
            let Some(id) = row.id else {
                continue;
            };
            let owner = if row.account == 1 {
                Owner::Account(id)
            } else {
                Owner::Registration(id)
            };
            let holder = Holder {
                owner,
                partner: row.partner,
            };
            holders.entry(row.key.as_str()).or_default().push(holder);
        }
        holders
    }
}

#[derive(Debug, FromQueryResult)]
struct Posting {
    key: String,
    /// None for a key too common to list its holders.
    id: Option<i64>,
    /// A registration's partner.
    partner: Option<i64>,
    account: i32,
    postings: i64,
    /// The stored bands, on every row (read once by the database).
    bands: Option<String>,
}

/// How many hold each key and, for keys held by at most `PER_KEY` (a domain or joined-name
/// key: `PER_CUSTOMER_KEY`), who; with the program's bands (they matter only when there is a
/// candidate, so they cost no statement of their own). The keys are bound as one JSON
/// list: the statement's text is the same for one probe or a page of them.
async fn read_postings(db: &impl ConnectionTrait, keys: &[String]) -> AppResult<Vec<Posting>> {
    if keys.is_empty() {
        return Ok(vec![]);
    }
    let backend = db.get_database_backend();
    let mut query = postings_of(backend, "registration_keys", "registration_id", 0, keys);
    query.union(
        UnionType::All,
        postings_of(backend, "account_keys", "account_id", 1, keys),
    );
    Ok(Posting::find_by_statement(backend.build(&query))
        .all(db)
        .await?)
}

/// The keys of `table` counted (an index-only count per key), then joined to their holders
/// where they are few. Numbering every key's holders with a window function instead made
/// SQLite sort all of them: 160 ms for a check of 50 prospects at 200,000 registrations,
/// most of it in its sorter, for common words whose holders are never used.
fn postings_of(
    backend: DbBackend,
    table: &str,
    owner: &str,
    account: i32,
    keys: &[String],
) -> SelectStatement {
    let (counted, holder) = (Alias::new("counted"), Alias::new("holder"));
    let key = Alias::new("key");
    let counts = Query::select()
        .column(key.clone())
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("postings"))
        .from(Alias::new(table))
        .and_where(db::in_texts(backend, Expr::col(key.clone()).into(), keys))
        .group_by_col(key.clone())
        .to_owned();
    // Keys held by few list every holder; a domain or joined-name key (one customer's)
    // lists up to `PER_CUSTOMER_KEY`. A correlated subquery picking a contested key's oldest
    // holders instead made PostgreSQL plan the join as a loop over every key's holders:
    // `registerDeal` took 420 ms (median, 32 clients) at 200,000 registrations.
    let listed = Expr::cust(format!(
        r#"("counted"."postings" <= {PER_KEY} OR (("counted"."key" LIKE 'd:%' OR "counted"."key" LIKE 'j:%') AND "counted"."postings" <= {PER_CUSTOMER_KEY}))"#
    ));
    let mut query = Query::select()
        .expr_as(Expr::col((counted.clone(), key.clone())), Alias::new("key"))
        .expr_as(
            Expr::col((holder.clone(), Alias::new(owner))),
            Alias::new("id"),
        )
        .expr_as(
            match account {
                0 => Expr::col((holder.clone(), Alias::new("partner_id"))).into(),
                _ => Expr::cust("CAST(NULL AS BIGINT)"),
            },
            Alias::new("partner"),
        )
        .expr_as(Expr::val(account), Alias::new("account"))
        .expr_as(
            Expr::col((counted.clone(), Alias::new("postings"))),
            Alias::new("postings"),
        )
        .expr_as(
            Expr::cust(format!(
                r#"(SELECT "value" FROM "settings" WHERE "key" = '{BANDS_SETTING}')"#
            )),
            Alias::new("bands"),
        )
        .from_subquery(counts, counted.clone())
        .to_owned();
    let same_key = Expr::col((holder.clone(), key.clone())).equals((counted, key));
    if backend == DbBackend::Postgres {
        // Each key's holders looked up by themselves, the count checked first (PostgreSQL
        // skips the lookup of a common key). As a plain join, once the holders' partner
        // was read beside them (not in the key's index), PostgreSQL estimated the keys
        // bound as JSON at 100 and hashed the whole table instead: 25 ms a check at
        // 200,000 registrations, against 0.2 ms. The LIMIT (no key lists more) keeps
        // the planner from folding the subquery back into that join.
        let mut columns = vec![Alias::new(owner)];
        if account == 0 {
            columns.push(Alias::new("partner_id"));
        }
        let holders = Query::select()
            .columns(columns.into_iter().map(|c| (holder.clone(), c)))
            .from_as(Alias::new(table), holder.clone())
            .and_where(same_key)
            .and_where(listed)
            .limit(PER_CUSTOMER_KEY as u64)
            .to_owned();
        query.join_lateral(JoinType::LeftJoin, holders, holder, Expr::cust("TRUE"));
    } else {
        query.join_as(
            JoinType::LeftJoin,
            Alias::new(table),
            holder,
            Condition::all().add(same_key).add(listed),
        );
    }
    query
}

const BANDS_SETTING: &str = "conflict-bands";

/// The program's score bands as stored (`setConflictBands`), or the defaults.
fn parse_bands(stored: Option<&str>) -> Bands {
    stored
        .and_then(|value| serde_json::from_str::<(f64, f64)>(value).ok())
        .map(|(match_at, possible_at)| Bands {
            match_at,
            possible_at,
        })
        .unwrap_or_default()
}

/// The program's score bands.
pub async fn bands(db: &impl ConnectionTrait) -> AppResult<Bands> {
    let stored = setting::Entity::find_by_id(BANDS_SETTING).one(db).await?;
    Ok(parse_bands(stored.as_ref().map(|s| s.value.as_str())))
}

/// Stores new bands: every replica's next check uses them (they are read with the
/// candidates, in the same statement).
pub async fn set_bands(db: &impl ConnectionTrait, bands: Bands) -> AppResult<()> {
    let value = serde_json::to_string(&(bands.match_at, bands.possible_at))
        .map_err(|e| AppError::internal(e.to_string()))?;
    store_setting(db, BANDS_SETTING, &value).await
}

pub(super) use crate::settings::store as store_setting;
