//! How alike two normalised names are: tokens aligned one to one whatever their order,
//! each pair scored by a character measure that forgives typing and scanning errors,
//! words joined or split ("SunPeak"/"Sun Peak") and acronyms ("IBM") taken as the words
//! they stand for, every token weighted by how rare and how distinctive it is.

use super::names::{is_generic, shape, spelling};

/// What a distinctive word weighs against a descriptive one ("Solutions", "UK").
const GENERIC_WEIGHT: f64 = 0.3;

/// How two tokens matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Same,
    /// Joined in one name, split in the other.
    Compound,
    /// One letter misread by a scanner (rn/m, vv/w, 1/l).
    Scanned,
    Acronym,
    Typo,
}

impl Kind {
    fn similarity(self) -> f64 {
        match self {
            Kind::Same | Kind::Compound => 1.0,
            Kind::Scanned => 0.95,
            Kind::Acronym => 0.92,
            Kind::Typo => 0.9,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::Same => "same words",
            Kind::Compound => "words joined or split",
            Kind::Scanned => "letters misread (scanning)",
            Kind::Acronym => "an acronym of the words",
            Kind::Typo => "a typing error",
        }
    }
}

/// Two names' similarity (0-1) and the least exact way a token pair matched.
#[derive(Debug, Clone, PartialEq)]
pub struct NameMatch {
    pub score: f64,
    pub worst: Option<Kind>,
}

/// Rows of a standard keyboard, for substitutions that are typing errors (a neighbouring
/// key) rather than another word.
const KEYBOARD: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];

fn neighbours(a: char, b: char) -> bool {
    let position = |c: char| {
        KEYBOARD
            .iter()
            .enumerate()
            .find_map(|(row, keys)| keys.find(c).map(|col| (row as i32, col as i32)))
    };
    match (position(a), position(b)) {
        (Some((ra, ca)), Some((rb, cb))) => (ra - rb).abs() <= 1 && (ca - cb).abs() <= 1,
        _ => false,
    }
}

/// How `a` and `b` (single tokens) match, if they do. Short words must be exact: one
/// letter makes another word of them ("Acme"/"Acne"). From five letters one error is
/// forgiven (a letter missed, doubled, swapped, a neighbouring key, and from seven a vowel
/// for another: "Vandelay"/"Vandeley"), from nine two. A different first letter never is.
pub fn token_match(a: &str, b: &str) -> Option<Kind> {
    if a == b || spelling(a) == spelling(b) {
        return Some(Kind::Same);
    }
    if shape(a) == shape(b) {
        return Some(Kind::Scanned);
    }
    if a.chars().any(|c| c.is_ascii_digit()) || b.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    // An initial for the word ("J. Smith" / "John Smith").
    if (a.len() == 1 && b.starts_with(a)) || (b.len() == 1 && a.starts_with(b)) {
        return Some(Kind::Acronym);
    }
    let longest = a.len().max(b.len());
    let distance = strsim::osa_distance(a, b);
    let allowed = match longest {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    };
    let swapped = distance == 1 && strsim::levenshtein(a, b) == 2;
    if distance == 0 || (distance > allowed && !(longest == 4 && swapped)) {
        return None;
    }
    if distance == 1 && a.len() == b.len() && !swapped {
        // A different first letter makes another name (Norton/Horton), not a slip.
        let (at, (x, y)) = a
            .chars()
            .zip(b.chars())
            .enumerate()
            .find(|(_, (x, y))| x != y)?;
        let vowels = |c: char| "aeiouy".contains(c);
        let misspelt_vowel = longest >= 7 && vowels(x) && vowels(y);
        if at == 0 || !(neighbours(x, y) || misspelt_vowel) {
            return None;
        }
    }
    Some(Kind::Typo)
}

/// A token's weight: rarity (1 for a word seen once, less for a common one) times how
/// distinctive it is.
fn weight(token: &str, rarity: &dyn Fn(&str) -> f64) -> f64 {
    let distinctive = if is_generic(&spelling(token)) || token.len() == 1 {
        GENERIC_WEIGHT
    } else {
        1.0
    };
    distinctive * rarity(token).clamp(0.2, 1.0)
}

/// Replaces, in `other`, runs of tokens that `token` stands for: the same letters split
/// ("sun peak" for "sunpeak") or its initials ("business machines" for "bm"). Returns how.
fn merge_runs(token: &str, other: &mut Vec<String>) -> Option<Kind> {
    if other.iter().any(|t| t == token) {
        return None;
    }
    for len in (2..=4.min(other.len())).rev() {
        for start in 0..=other.len() - len {
            let run = &other[start..start + len];
            let kind = if run.concat() == token {
                Kind::Compound
            } else if token.len() == len
                && token.chars().all(|c| c.is_ascii_alphabetic())
                && run.iter().map(|t| &t[..1]).collect::<String>() == token
            {
                Kind::Acronym
            } else {
                continue;
            };
            other.splice(start..start + len, [token.to_owned()]);
            return Some(kind);
        }
    }
    None
}

/// `short` written as the initials of `long`'s words ("PG&E" for "Pacific Gas Electric",
/// "3M" for "Minnesota Mining Manufacturing"): `Kind::Acronym`'s similarity.
fn acronym_of_whole(short: &[String], long: &[String]) -> Option<f64> {
    let written = short.concat();
    if long.len() < 2 || written.len() < 2 || written.len() > long.len() {
        return None;
    }
    let letters: String = long.iter().filter_map(|t| t.chars().next()).collect();
    (written == letters || written == counted(&letters)).then_some(Kind::Acronym.similarity())
}

/// Initials with repeated letters counted ("mmm" → "3m").
pub fn counted(letters: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = letters.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| **c == chars[i]).count();
        if run > 1 {
            out.push_str(&run.to_string());
        }
        out.push(chars[i]);
        i += run;
    }
    out
}

/// The similarity of two names (token lists), 0-1: half a weighted Dice overlap (every
/// unmatched word on either side costs its weight) and half the share of the lighter name
/// found in the other (a name with added words is still found in it).
pub fn name_similarity(a: &[String], b: &[String], rarity: &dyn Fn(&str) -> f64) -> NameMatch {
    if a.is_empty() || b.is_empty() {
        return NameMatch {
            score: 0.0,
            worst: None,
        };
    }
    if a.concat() == b.concat() {
        let kind = if a == b { Kind::Same } else { Kind::Compound };
        return NameMatch {
            score: 1.0,
            worst: Some(kind),
        };
    }
    if let Some(score) = acronym_of_whole(a, b).or_else(|| acronym_of_whole(b, a)) {
        return NameMatch {
            score,
            worst: Some(Kind::Acronym),
        };
    }
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    let mut merged: Vec<(String, Kind)> = Vec::new();
    for token in a.clone() {
        if let Some(kind) = merge_runs(&token, &mut b) {
            merged.push((token, kind));
        }
    }
    for token in b.clone() {
        if let Some(kind) = merge_runs(&token, &mut a) {
            merged.push((token, kind));
        }
    }
    let mut pairs: Vec<(usize, usize, Kind)> = Vec::new();
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            if let Some(mut kind) = token_match(x, y) {
                if kind == Kind::Same {
                    if let Some((_, how)) = merged.iter().find(|(t, _)| t == x) {
                        kind = *how;
                    }
                }
                pairs.push((i, j, kind));
            }
        }
    }
    pairs.sort_by_key(|&(i, j, kind)| (kind, i, j));
    let (mut used_a, mut used_b) = (vec![false; a.len()], vec![false; b.len()]);
    let wa: Vec<f64> = a.iter().map(|t| weight(t, rarity)).collect();
    let wb: Vec<f64> = b.iter().map(|t| weight(t, rarity)).collect();
    let (mut found_a, mut found_b, mut worst) = (0.0, 0.0, None);
    for (i, j, kind) in pairs {
        if used_a[i] || used_b[j] {
            continue;
        }
        used_a[i] = true;
        used_b[j] = true;
        let similarity = kind.similarity();
        found_a += similarity * wa[i];
        found_b += similarity * wb[j];
        worst = worst.max(Some(kind));
    }
    let (total_a, total_b): (f64, f64) = (wa.iter().sum(), wb.iter().sum());
    let dice = (found_a + found_b) / (total_a + total_b);
    let contained = (found_a / total_a).max(found_b / total_b);
    NameMatch {
        score: (dice + contained) / 2.0,
        worst,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn similarity(a: &str, b: &str) -> f64 {
        name_similarity(&tokens(a), &tokens(b), &|_| 1.0).score
    }

    #[test]
    fn typing_errors_in_long_words_match_and_short_words_must_be_exact() {
        assert_eq!(token_match("globex", "glbex"), Some(Kind::Typo));
        assert_eq!(token_match("globex", "glboex"), Some(Kind::Typo));
        assert_eq!(
            token_match("globex", "globek"),
            None,
            "x and k are far apart"
        );
        assert_eq!(token_match("acme", "acne"), None);
        assert_eq!(token_match("acme", "amce"), Some(Kind::Typo), "a swap");
        assert_eq!(token_match("modern", "modem"), Some(Kind::Scanned));
        assert_eq!(token_match("vertex", "vortex"), None);
        assert_eq!(token_match("3m", "4m"), None);
        assert_eq!(
            token_match("norton", "horton"),
            None,
            "another first letter"
        );
        assert_eq!(token_match("j", "john"), Some(Kind::Acronym), "an initial");
    }

    #[test]
    fn word_order_spacing_and_acronyms() {
        assert_eq!(similarity("peak sun", "sun peak"), 1.0);
        assert_eq!(similarity("sunpeak", "sun peak"), 1.0);
        assert!(similarity("ibm", "international business machine") > 0.9);
        assert!(similarity("ge healthcare", "general electric healthcare") > 0.9);
    }

    #[test]
    fn descriptive_words_cost_little_and_distinct_words_a_lot() {
        assert!(similarity("acme", "acme international solution") > 0.85);
        assert!(similarity("acme bakery", "acme plumbing") < 0.6);
        assert!(similarity("global solution", "global system") < 0.7);
        let common = |t: &str| if t == "dental" { 0.3 } else { 1.0 };
        let rare_shared =
            name_similarity(&tokens("smith dental"), &tokens("jones dental"), &common);
        assert!(rare_shared.score < 0.3, "{rare_shared:?}");
    }
}
