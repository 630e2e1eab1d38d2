//! Company names as the matcher compares them: Unicode folded to lower-case ASCII, split
//! into aliases ("t/a", "d/b/a", brackets), legal forms and filler words removed, common
//! abbreviations and number words written out, spelling variants folded.

use unicode_normalization::UnicodeNormalization;

use super::legal_forms;

/// A name's normalised forms: the name itself first, then its aliases. Each is a list of
/// tokens; none is empty unless the name was.
pub fn name_forms(raw: &str, country: Option<&str>) -> Vec<Vec<String>> {
    let text = clean(raw);
    let (main, bracketed) = take_brackets(&text);
    let mut parts = split_aliases(&main);
    parts.extend(bracketed);
    let mut forms: Vec<Vec<String>> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let raw = raw_tokens(part);
        let is_alias = i > 0;
        if raw.is_empty() || (is_alias && meaningless_alias(&raw)) {
            continue;
        }
        let tokens = normalise(&raw, country);
        if !tokens.is_empty() && !forms.contains(&tokens) {
            forms.push(tokens);
        }
    }
    if forms.is_empty() {
        forms.push(Vec::new());
    }
    forms
}

/// NFKC, without format and control characters, lower case, transliterated to ASCII.
pub fn clean(raw: &str) -> String {
    let folded: String = raw
        .nfkc()
        .filter(|c| !is_format_or_control(*c))
        .collect::<String>()
        .to_lowercase();
    deunicode::deunicode_with_tofu(&folded, " ").to_lowercase()
}

/// Unicode's format characters (category Cf: zero-width spaces and joiners, bidi marks,
/// soft hyphens) and control characters: invisible, and never part of how a name is spelt.
fn is_format_or_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// The text outside brackets, and each bracketed text (an alias or a qualifier).
fn take_brackets(text: &str) -> (String, Vec<String>) {
    let mut main = String::new();
    let mut inside: Vec<String> = Vec::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth == 1 {
                    inside.push(String::new());
                }
                main.push(' ');
            }
            ')' | ']' | '}' if depth > 0 => depth -= 1,
            ')' | ']' | '}' => main.push(' '),
            _ if depth > 0 => inside.last_mut().map_or((), |part| part.push(c)),
            _ => main.push(c),
        }
    }
    (main, inside)
}

/// Words that introduce another name the same company goes by.
const ALIAS_MARKERS: &[&[&str]] = &[
    &["t/a"],
    &["t/as"],
    &["d/b/a"],
    &["dba"],
    &["d.b.a."],
    &["d.b.a"],
    &["trading", "as"],
    &["doing", "business", "as"],
    &["aka"],
    &["a.k.a."],
    &["a.k.a"],
    &["a/k/a"],
    &["also", "known", "as"],
    &["formerly"],
    &["formerly", "known", "as"],
    &["fka"],
    &["f/k/a"],
    &["f.k.a."],
];

/// `text` split at alias markers: the name, then each alias.
fn split_aliases(text: &str) -> Vec<String> {
    let chunks: Vec<&str> = text.split_whitespace().collect();
    let bare = |chunk: &str| -> String {
        chunk
            .trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '-' | '"' | '\''))
            .to_owned()
    };
    let mut parts = vec![String::new()];
    let mut i = 0;
    while i < chunks.len() {
        let marker = ALIAS_MARKERS.iter().find(|marker| {
            i + marker.len() <= chunks.len()
                && marker
                    .iter()
                    .zip(&chunks[i..])
                    .all(|(word, chunk)| bare(chunk) == *word)
        });
        match marker {
            Some(marker) if i > 0 => {
                parts.push(String::new());
                i += marker.len();
            }
            _ => {
                let part = parts.last_mut().expect("one part at least");
                part.push(' ');
                part.push_str(chunks[i]);
                i += 1;
            }
        }
    }
    parts
}

/// Lower-case ASCII text as tokens: `&` and `+` as "and", dotted abbreviations closed up
/// ("p.l.c." → "plc"), apostrophes dropped ("McDonald's" → "mcdonalds"), other
/// punctuation a separator, and runs of single letters joined ("S. A." → "sa", "I B M" →
/// "ibm").
pub fn raw_tokens(text: &str) -> Vec<String> {
    let text = text.replace(['&', '+'], " and ");
    let mut tokens: Vec<String> = Vec::new();
    for chunk in text.split_whitespace() {
        let chunk = chunk.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if chunk.is_empty() {
            continue;
        }
        if is_dotted(chunk) {
            tokens.push(chunk.replace('.', ""));
            continue;
        }
        // "Amazon.com", "Booking.com": the name without its top-level domain.
        let chunk = match chunk.rsplit_once('.') {
            Some((name, tld)) if !name.is_empty() && WEB_SUFFIXES.contains(&tld) => name,
            _ => chunk,
        };
        let closed: String = chunk.chars().filter(|c| !matches!(c, '\'' | '`')).collect();
        tokens.extend(
            closed
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|piece| !piece.is_empty())
                .map(str::to_owned),
        );
    }
    join_single_letters(tokens)
}

/// Top-level domains names are written with ("Amazon.com").
const WEB_SUFFIXES: &[&str] = &[
    "com", "net", "org", "io", "co", "ai", "app", "biz", "info", "de", "uk", "fr", "nl", "eu",
];

/// `u.s.a`, `s.p.a`, `co`: letters in groups of one or two between dots.
fn is_dotted(chunk: &str) -> bool {
    chunk.contains('.')
        && chunk.split('.').all(|segment| {
            (1..=2).contains(&segment.len()) && segment.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

fn join_single_letters(tokens: Vec<String>) -> Vec<String> {
    let mut joined: Vec<String> = Vec::with_capacity(tokens.len());
    let mut run = String::new();
    let flush = |run: &mut String, joined: &mut Vec<String>| {
        if !run.is_empty() {
            joined.push(std::mem::take(run));
        }
    };
    for (i, token) in tokens.iter().enumerate() {
        let single = token.len() == 1;
        let next_single = tokens.get(i + 1).is_some_and(|next| next.len() == 1);
        let previous_single = i > 0 && tokens[i - 1].len() == 1;
        if single && (next_single || previous_single) {
            run.push_str(token);
        } else {
            flush(&mut run, &mut joined);
            joined.push(token.clone());
        }
    }
    flush(&mut run, &mut joined);
    joined
}

/// An alias that names nothing: only legal forms ("(publ)"), filler or a place.
fn meaningless_alias(tokens: &[String]) -> bool {
    legal_forms::only_legal_words(tokens)
        || tokens
            .iter()
            .all(|token| STOP_WORDS.contains(&token.as_str()) || is_place(&fold(&spelling(token))))
}

/// Words that carry no identity in a company name.
const STOP_WORDS: &[&str] = &[
    "the", "and", "of", "und", "et", "y", "de", "del", "la", "le", "les", "el", "der", "die",
    "das", "du", "des", "n",
];

/// Raw tokens → the tokens compared: legal forms and filler removed, abbreviations and
/// number words written out, spelling folded. A name made only of removable words keeps
/// them.
fn normalise(raw: &[String], country: Option<&str>) -> Vec<String> {
    let without_forms = legal_forms::strip(raw, country);
    let kept: Vec<&String> = without_forms
        .iter()
        .filter(|token| !STOP_WORDS.contains(&token.as_str()))
        .collect();
    let chosen: Vec<&String> = if kept.is_empty() {
        without_forms.iter().collect()
    } else {
        kept
    };
    let expanded: Vec<String> = chosen.into_iter().flat_map(|token| expand(token)).collect();
    compound_numbers(expanded)
        .iter()
        .map(|token| fold(token))
        .filter(|token| !token.is_empty())
        .collect()
}

/// "20 1st" → "21st", "40 2" → "42": tens and units written as two number words.
fn compound_numbers(tokens: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    for token in tokens {
        let tens = out.last().and_then(|last| {
            let tens: u32 = last.parse().ok()?;
            ((20..=90).contains(&tens) && tens.is_multiple_of(10)).then_some(tens)
        });
        let unit = token.chars().next().is_some_and(|c| matches!(c, '1'..='9'))
            && token.len() <= 3
            && !token[1..].chars().any(|c| c.is_ascii_digit());
        match tens {
            Some(tens) if unit => {
                out.pop();
                out.push(format!("{}{token}", tens / 10));
            }
            _ => out.push(token),
        }
    }
    out
}

/// Abbreviations written out (one token each; the long form as it is usually written).
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("intl", "international"),
    ("internat", "international"),
    ("mfg", "manufacturing"),
    ("mfrs", "manufacturers"),
    ("mgmt", "management"),
    ("mgt", "management"),
    ("svc", "services"),
    ("svcs", "services"),
    ("srvcs", "services"),
    ("sys", "systems"),
    ("tech", "technology"),
    ("techs", "technologies"),
    ("technol", "technology"),
    ("assoc", "associates"),
    ("assocs", "associates"),
    ("bros", "brothers"),
    ("ctr", "center"),
    ("cntr", "center"),
    ("centre", "center"),
    ("dept", "department"),
    ("dev", "development"),
    ("devel", "development"),
    ("dist", "distribution"),
    ("distr", "distribution"),
    ("eng", "engineering"),
    ("engg", "engineering"),
    ("engr", "engineering"),
    ("ents", "enterprises"),
    ("entps", "enterprises"),
    ("govt", "government"),
    ("grp", "group"),
    ("hldg", "holdings"),
    ("hldgs", "holdings"),
    ("hosp", "hospital"),
    ("ind", "industries"),
    ("inds", "industries"),
    ("indus", "industries"),
    ("insur", "insurance"),
    ("inst", "institute"),
    ("lab", "laboratory"),
    ("labs", "laboratories"),
    ("mktg", "marketing"),
    ("natl", "national"),
    ("pharma", "pharmaceuticals"),
    ("pharms", "pharmaceuticals"),
    ("prod", "products"),
    ("prods", "products"),
    ("props", "properties"),
    ("univ", "university"),
    ("st", "saint"),
    ("ste", "sainte"),
    ("mt", "mount"),
    ("ft", "fort"),
    ("sols", "solutions"),
    ("soln", "solutions"),
    ("solns", "solutions"),
    ("comms", "communications"),
    ("comm", "communications"),
    ("telecom", "telecommunications"),
    ("elec", "electric"),
    ("finl", "financial"),
    ("amer", "american"),
    ("med", "medical"),
    ("ptnrs", "partners"),
    ("constr", "construction"),
    ("cnslt", "consulting"),
    ("consult", "consulting"),
    ("transp", "transportation"),
    ("logist", "logistics"),
    ("chem", "chemical"),
    ("chems", "chemicals"),
    ("coop", "cooperative"),
    ("organisation", "organization"),
    ("colour", "color"),
    ("theatre", "theater"),
];

/// Number words as digits ("Three Rivers" and "3 Rivers" are one name).
const NUMBERS: &[(&str, &str)] = &[
    ("zero", "0"),
    ("one", "1"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("twenty", "20"),
    ("thirty", "30"),
    ("forty", "40"),
    ("fifty", "50"),
    ("sixty", "60"),
    ("seventy", "70"),
    ("eighty", "80"),
    ("ninety", "90"),
    ("hundred", "100"),
    ("thousand", "1000"),
    ("first", "1st"),
    ("second", "2nd"),
    ("third", "3rd"),
    ("fourth", "4th"),
    ("fifth", "5th"),
];

fn expand(token: &str) -> Vec<String> {
    let found = ABBREVIATIONS
        .iter()
        .chain(NUMBERS)
        .find(|(short, _)| *short == token)
        .map(|(_, long)| *long);
    vec![found.unwrap_or(token).to_owned()]
}

/// Plurals as singulars ("systems", "technologies"): one spelling for what grammar varies.
pub fn fold(token: &str) -> String {
    let mut folded = token.to_owned();
    let letters = folded.chars().filter(|c| c.is_ascii_alphabetic()).count();
    if folded.len() >= 5 && folded.ends_with("ies") && letters == folded.len() {
        folded.truncate(folded.len() - 3);
        folded.push('y');
    } else if folded.len() >= 4
        && letters >= 3
        && folded.ends_with('s')
        && !folded.ends_with("ss")
        && !folded.ends_with("us")
        && !folded.ends_with("is")
    {
        folded.pop();
    }
    folded
}

/// The digraphs German and Nordic names are written with when their letters are not at
/// hand ("Mueller"/"Müller", "Aalborg"/"Ålborg", "Soeren"/"Søren") as the single letter
/// transliteration gives. Compared apart from the spelling itself, so a typing error is
/// still one letter.
pub fn spelling(token: &str) -> String {
    let mut folded = token.to_owned();
    for (digraph, letter) in [("ae", "a"), ("oe", "o"), ("ue", "u"), ("aa", "a")] {
        if folded.contains(digraph) {
            folded = folded.replace(digraph, letter);
        }
    }
    folded
}

/// Letters that scanning and handwriting confuse, each group as one: "rn" read as "m",
/// "vv" as "w", "1" and "l", "0" and "o", "5" and "s".
pub fn shape(token: &str) -> String {
    let letters: String = spelling(token)
        .chars()
        .map(|c| match c {
            '1' | 'i' | '|' => 'l',
            '0' => 'o',
            '5' => 's',
            _ => c,
        })
        .collect();
    letters
        .replace("rn", "m")
        .replace("vv", "w")
        .replace("cl", "d")
}

/// Words that describe rather than name a company, in folded form. They still count, at a
/// fraction of a distinctive word's weight, so an added "International" or "Solutions"
/// costs little while two companies that share only such words stay apart.
const GENERIC: &[&str] = &[
    "international",
    "global",
    "worldwide",
    "group",
    "holding",
    "solution",
    "service",
    "system",
    "technology",
    "consulting",
    "consultant",
    "enterprise",
    "industry",
    "partner",
    "associate",
    "management",
    "business",
    "network",
    "digital",
    "software",
    "venture",
    "resource",
    "product",
    "trading",
    "logistic",
    "national",
    "corporate",
    "company",
    "brother",
    "son",
    "center",
    "communication",
    "agency",
    "studio",
    "lab",
    "laboratory",
    "america",
    "american",
    "europe",
    "european",
    "asia",
    "pacific",
    "north",
    "south",
    "east",
    "west",
];

/// Country and region names as a name's qualifier ("Acme UK", "Siemens Österreich").
const PLACES: &[&str] = &[
    "usa",
    "us",
    "uk",
    "gb",
    "britain",
    "england",
    "scotland",
    "wale",
    "ireland",
    "germany",
    "deutschland",
    "france",
    "spain",
    "espana",
    "italy",
    "italia",
    "netherland",
    "nederland",
    "holland",
    "belgium",
    "belgique",
    "austria",
    "osterreich",
    "switzerland",
    "schweiz",
    "suisse",
    "sweden",
    "sverige",
    "norway",
    "norge",
    "denmark",
    "danmark",
    "finland",
    "suomi",
    "poland",
    "polska",
    "portugal",
    "brasil",
    "brazil",
    "mexico",
    "canada",
    "australia",
    "india",
    "china",
    "japan",
    "nippon",
    "korea",
    "singapore",
    "emea",
    "apac",
    "latam",
    "nordic",
    "benelux",
    "dach",
    "uae",
    "africa",
];

pub fn is_generic(folded: &str) -> bool {
    GENERIC.contains(&folded) || is_place(folded)
}

pub fn is_place(folded: &str) -> bool {
    PLACES.contains(&folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary(raw: &str) -> String {
        name_forms(raw, None)[0].join(" ")
    }

    #[test]
    fn unicode_is_folded_to_one_ascii_spelling() {
        assert_eq!(primary("Müller GmbH"), spelling(&primary("Mueller GmbH")));
        assert_eq!(
            primary("Müller"),
            primary("Mu\u{0308}ller"),
            "decomposed accents"
        );
        assert_eq!(
            primary("Ålborg Marine"),
            spelling(&primary("Aalborg Marine"))
        );
        assert_eq!(primary("Søren Design"), spelling(&primary("Soeren Design")));
        assert_eq!(primary("Straße Bau"), primary("Strasse Bau"));
        assert_eq!(primary("ＡＣＭＥ Ｃｏｒｐ"), "acme", "full width");
        assert_eq!(
            primary("Ac\u{200B}me\u{00AD} Corp"),
            "acme",
            "format characters"
        );
    }

    #[test]
    fn punctuation_abbreviations_and_numbers() {
        assert_eq!(
            primary("St. Mary's Hospital"),
            primary("Saint Marys Hospital")
        );
        assert_eq!(
            primary("Acme Int'l Mfg."),
            "acme international manufacturing"
        );
        assert_eq!(primary("Three Rivers"), primary("3 Rivers"));
        assert_eq!(primary("Smith & Sons"), primary("Smith and Sons"));
        assert_eq!(primary("I.B.M."), "ibm");
        assert_eq!(primary("The Home Depot"), "home depot");
        assert_eq!(primary("Globex Systems"), primary("Globex System"));
        assert_eq!(primary("Amazon.com, Inc."), "amazon");
    }

    #[test]
    fn trading_names_and_brackets_are_aliases() {
        let forms = name_forms("Smith Holdings Ltd t/a Sunrise Bakery", Some("GB"));
        assert_eq!(forms[0].join(" "), "smith holding");
        assert_eq!(forms[1].join(" "), "sunrise bakery");
        let forms = name_forms("Jones Widgets LLC d/b/a WidgetWorld", Some("US"));
        assert_eq!(forms[1].join(" "), "widgetworld");
        let forms = name_forms("Volvo AB (publ)", Some("SE"));
        assert_eq!(forms, [["volvo"]], "a legal form in brackets is no alias");
        let forms = name_forms("Initech (Initrode)", None);
        assert_eq!(forms[1], ["initrode"]);
    }

    #[test]
    fn ocr_confusions_share_a_shape() {
        assert_eq!(shape("modern"), shape("modem"));
        assert_eq!(shape("vvidget"), shape("widget"));
        assert_eq!(shape("g1obex"), shape("globex"));
    }
}
