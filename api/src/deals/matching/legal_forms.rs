//! Legal forms by country: the words a company name carries because of how the company is
//! incorporated, which say nothing about who it is.
//!
//! No crate in the Rust registry carries a list of them (GLEIF publishes the ISO 20275
//! Entity Legal Forms list as a CSV, packaged for Python only), so the abbreviations and
//! names of ISO 20275 that partners actually type are kept here, per ISO 3166 country. A
//! form is written as people write it ("GmbH & Co. KG", "Sp. z o.o.", "株式会社"); it is
//! normalised by the same steps as the names it is looked for in.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::names::raw_tokens;

/// Forms used in many countries (English-language registries and the EU's own forms).
const EVERYWHERE: &[&str] = &[
    "Inc",
    "Incorporated",
    "Corp",
    "Corporation",
    "Co",
    "Company",
    "Ltd",
    "Limited",
    "LLC",
    "L.L.C.",
    "Limited Liability Company",
    "PLC",
    "Public Limited Company",
    "LLP",
    "Limited Liability Partnership",
    "LP",
    "Limited Partnership",
    "SE",
    "Societas Europaea",
    "SCE",
    "EEIG",
];

/// Forms by country (ISO 3166-1 alpha-2 codes).
const BY_COUNTRY: &[(&[&str], &[&str])] = &[
    (
        &["US"],
        &[
            "PLLC",
            "LLLP",
            "PC",
            "P.C.",
            "PA",
            "Professional Corporation",
            "Professional Association",
            "LC",
        ],
    ),
    (
        &["GB", "IE"],
        &[
            "CIC",
            "Community Interest Company",
            "CIO",
            "Teoranta",
            "Teo",
            "DAC",
            "Designated Activity Company",
            "CLG",
            "UC",
            "ULC",
        ],
    ),
    (
        &["DE", "AT", "CH", "LI", "LU"],
        &[
            "GmbH",
            "mbH",
            "GesmbH",
            "Ges.m.b.H.",
            "Gesellschaft mit beschränkter Haftung",
            "AG",
            "Aktiengesellschaft",
            "KG",
            "KGaA",
            "GmbH & Co. KG",
            "AG & Co. KG",
            "OHG",
            "OG",
            "GbR",
            "UG",
            "UG (haftungsbeschränkt)",
            "haftungsbeschränkt",
            "e.K.",
            "e.U.",
            "eG",
            "PartG",
            "PartG mbB",
            "KlG",
        ],
    ),
    (
        &["FR", "BE", "CH", "LU", "MC", "CA"],
        &[
            "SA",
            "SAS",
            "SASU",
            "SARL",
            "S.à r.l.",
            "EURL",
            "SCA",
            "SCS",
            "SNC",
            "SCI",
            "SCOP",
            "Société Anonyme",
            "Société par Actions Simplifiée",
            "Société à Responsabilité Limitée",
            "EIRL",
            "GIE",
            "SPRL",
            "SRL",
            "SCRL",
            "Ltée",
            "Limitée",
            "Incorporée",
            "SENC",
            "S.E.N.C.",
        ],
    ),
    (
        &["NL", "BE", "SR", "CW", "AW"],
        &[
            "BV",
            "B.V.",
            "NV",
            "N.V.",
            "VOF",
            "CV",
            "BVBA",
            "Besloten Vennootschap",
            "Naamloze Vennootschap",
            "Comm.V",
            "CommV",
            "VZW",
        ],
    ),
    (
        &["IT", "SM", "CH"],
        &[
            "SpA",
            "S.p.A.",
            "Srl",
            "S.r.l.",
            "Srls",
            "Sas",
            "Snc",
            "SApA",
            "Scarl",
            "Società per Azioni",
            "Società a Responsabilità Limitata",
        ],
    ),
    (
        &[
            "ES", "MX", "AR", "CL", "CO", "PE", "VE", "UY", "PY", "BO", "EC", "CR", "PA", "GT",
            "DO", "HN", "SV", "NI", "CU", "PR",
        ],
        &[
            "SA",
            "S.A.",
            "SL",
            "S.L.",
            "SLU",
            "SAU",
            "SLL",
            "Sociedad Anónima",
            "Sociedad Limitada",
            "Sociedad de Responsabilidad Limitada",
            "SA de CV",
            "S.A. de C.V.",
            "S de RL",
            "S. de R.L.",
            "S de RL de CV",
            "SAPI de CV",
            "SAB de CV",
            "SRL",
            "SAS",
            "SpA",
            "Ltda",
            "Limitada",
            "EIRL",
            "SAC",
            "SAA",
            "SC",
            "Coop",
        ],
    ),
    (
        &["PT", "BR", "AO", "MZ"],
        &[
            "SA",
            "S/A",
            "Lda",
            "Ltda",
            "Limitada",
            "Unipessoal Lda",
            "SGPS",
            "EIRELI",
            "ME",
            "EPP",
        ],
    ),
    (
        &["SE", "FI", "AX"],
        &[
            "AB",
            "Aktiebolag",
            "Aktiebolaget",
            "AB (publ)",
            "publ",
            "HB",
            "KB",
            "Oy",
            "Oyj",
            "Osakeyhtiö",
            "Ky",
            "Ay",
            "Tmi",
        ],
    ),
    (
        &["NO", "DK", "EE", "IS", "FO", "GL"],
        &[
            "AS",
            "A/S",
            "ASA",
            "Aksjeselskap",
            "Allmennaksjeselskap",
            "ANS",
            "DA",
            "ApS",
            "Anpartsselskab",
            "Aktieselskab",
            "I/S",
            "K/S",
            "P/S",
            "AmbA",
            "IVS",
            "OÜ",
            "Osaühing",
            "hf",
            "ehf",
            "sf",
        ],
    ),
    (
        &["PL"],
        &[
            "Sp. z o.o.",
            "Sp z oo",
            "Spółka z ograniczoną odpowiedzialnością",
            "S.A.",
            "Spółka Akcyjna",
            "Sp.j.",
            "Sp.k.",
            "S.K.A.",
        ],
    ),
    (
        &["CZ", "SK"],
        &[
            "s.r.o.",
            "spol. s r.o.",
            "a.s.",
            "v.o.s.",
            "k.s.",
            "Společnost s ručením omezeným",
            "Akciová společnost",
        ],
    ),
    (&["HU"], &["Kft", "Zrt", "Nyrt", "Bt", "Kkt", "Rt"]),
    (&["RO", "MD"], &["SRL", "S.R.L.", "SA", "PFA", "SNC", "SCS"]),
    (&["BG"], &["OOD", "EOOD", "AD", "EAD", "ET"]),
    (
        &["HR", "SI", "RS", "BA", "ME", "MK"],
        &["d.o.o.", "d.d.", "a.d.", "j.d.o.o.", "s.p.", "DOOEL"],
    ),
    (&["GR", "CY"], &["AE", "A.E.", "EPE", "IKE", "OE", "EE"]),
    (
        &["TR"],
        &[
            "A.Ş.",
            "AŞ",
            "Anonim Şirketi",
            "Ltd. Şti.",
            "Limited Şirketi",
            "Şti",
        ],
    ),
    (
        &["RU", "UA", "BY", "KZ", "UZ", "KG", "AM", "AZ", "GE"],
        &[
            "OOO", "ООО", "OAO", "ОАО", "ZAO", "ЗАО", "PAO", "ПАО", "AO", "АО", "IP", "TOV", "ТОВ",
            "PAT", "ПАТ", "TOO", "ТОО",
        ],
    ),
    (
        &["LV", "LT", "EE"],
        &["SIA", "AS", "UAB", "AB", "MB", "OÜ", "VšĮ"],
    ),
    (
        &["JP"],
        &[
            "KK",
            "K.K.",
            "Kabushiki Kaisha",
            "Kabushiki Gaisha",
            "Kabushikigaisha",
            "GK",
            "Godo Kaisha",
            "Godo Gaisha",
            "YK",
            "Yugen Kaisha",
            "株式会社",
            "有限会社",
            "合同会社",
            "Co Ltd",
        ],
    ),
    (
        &["CN", "HK", "TW", "MO"],
        &["有限公司", "股份有限公司", "有限责任公司", "Co Ltd"],
    ),
    (
        &["KR"],
        &[
            "Co Ltd",
            "Jusik Hoesa",
            "Jusikhoesa",
            "주식회사",
            "유한회사",
        ],
    ),
    (
        &["IN", "PK", "BD", "LK", "NP"],
        &[
            "Pvt Ltd",
            "Pvt. Ltd.",
            "Private Limited",
            "Pvt",
            "OPC",
            "OPC Pvt Ltd",
        ],
    ),
    (
        &["SG", "MY", "BN"],
        &[
            "Pte Ltd",
            "Pte. Ltd.",
            "Pte",
            "Private Limited",
            "Sdn Bhd",
            "Sdn. Bhd.",
            "Bhd",
            "Berhad",
            "Sendirian Berhad",
            "PLT",
        ],
    ),
    (
        &["ID"],
        &["PT", "P.T.", "Tbk", "PT Tbk", "Persero", "CV", "UD"],
    ),
    (&["PH"], &["OPC", "Corp"]),
    (
        &["TH"],
        &["PCL", "Public Company Limited", "Co Ltd", "Ltd Part"],
    ),
    (
        &["VN"],
        &[
            "JSC",
            "Cong Ty",
            "TNHH",
            "Co Phan",
            "Cong Ty TNHH",
            "Cong Ty Co Phan",
        ],
    ),
    (
        &["AU", "NZ", "ZA", "NA", "BW"],
        &[
            "Pty Ltd",
            "Pty. Ltd.",
            "Pty",
            "Proprietary Limited",
            "NL",
            "No Liability",
            "NPC",
            "SOC",
            "CC",
        ],
    ),
    (
        &["AE", "SA", "QA", "KW", "BH", "OM", "EG", "JO"],
        &[
            "FZE", "FZCO", "FZ-LLC", "FZLLC", "PJSC", "PSC", "WLL", "W.L.L.", "SPC", "JSC", "SAOG",
            "SAOC",
        ],
    ),
    (&["IL"], &["Ltd", "בע\"מ"]),
];

/// Forms that stand before the name in their countries ("PT Telkom", "AB Volvo", "OOO Romashka",
/// "株式会社ソニー").
const PREFIXES: &[&str] = &[
    "PT",
    "P.T.",
    "CV",
    "AB",
    "AS",
    "OOO",
    "OAO",
    "ZAO",
    "PAO",
    "AO",
    "TOV",
    "TOO",
    "UAB",
    "SIA",
    "KK",
    "Kabushiki Kaisha",
    "Kabushiki Gaisha",
    "株式会社",
    "有限会社",
    "合同会社",
    "주식회사",
    "Cong Ty",
    "Cong Ty TNHH",
    "Cong Ty Co Phan",
    "ООО",
    "ОАО",
    "ЗАО",
    "ПАО",
    "АО",
    "ТОВ",
];

/// Single tokens that are also ordinary words: a legal form only at the start or end of a
/// name ("Bliss Spa", "Co-op Bank"). So are two-letter forms, except these.
const EDGE_ONLY_WORDS: &[&str] = &["co", "company", "spa", "coop", "sas", "sci"];
const TWO_LETTERS_ANYWHERE: &[&str] = &["ag", "bv", "nv", "kg", "oy", "sa"];

/// A legal form as normalised tokens, where it is used and where in a name it may stand.
#[derive(Debug)]
pub struct LegalForm {
    pub tokens: Vec<String>,
    /// Empty: every country.
    pub countries: &'static [&'static str],
    pub prefix: bool,
    /// Stripped wherever it stands, not only at the edges.
    pub anywhere: bool,
}

static FORMS: LazyLock<Vec<LegalForm>> = LazyLock::new(|| {
    let mut forms = Vec::new();
    let mut add = |written: &str, countries: &'static [&'static str]| {
        let tokens = raw_tokens(&super::names::clean(written));
        if tokens.is_empty() {
            return;
        }
        let word = tokens[0].as_str();
        let edge_only = tokens.len() == 1
            && ((word.len() <= 2 && !TWO_LETTERS_ANYWHERE.contains(&word))
                || EDGE_ONLY_WORDS.contains(&word));
        let prefix = PREFIXES
            .iter()
            .any(|p| raw_tokens(&super::names::clean(p)) == tokens);
        forms.push(LegalForm {
            tokens,
            countries,
            prefix,
            anywhere: !edge_only,
        });
    };
    for form in EVERYWHERE {
        add(form, &[]);
    }
    for (countries, written) in BY_COUNTRY {
        for form in *written {
            add(form, countries);
        }
    }
    // Longest first, so "gmbh co kg" is taken whole before "kg".
    forms.sort_by_key(|form| std::cmp::Reverse(form.tokens.len()));
    forms
});

/// Whether `form` applies to a customer in `country`: everywhere for a form that cannot be
/// an ordinary word ("GmbH" is a legal form whatever country a partner gave), only in its
/// countries for one that can ("PT", "AS", "Spa"), in every country when it is unknown.
fn applies(form: &LegalForm, country: Option<&str>) -> bool {
    form.countries.is_empty()
        || form.anywhere
        || country.is_none_or(|country| form.countries.contains(&country))
}

/// The forms by their last and by their first token, longest first: a name is stripped
/// by looking up its own tokens, not by trying every form.
struct ByToken {
    last: HashMap<&'static str, Vec<&'static LegalForm>>,
    first: HashMap<&'static str, Vec<&'static LegalForm>>,
}

static BY_TOKEN: LazyLock<ByToken> = LazyLock::new(|| {
    let mut by = ByToken {
        last: HashMap::new(),
        first: HashMap::new(),
    };
    for form in FORMS.iter() {
        let (first, last) = (&form.tokens[0], &form.tokens[form.tokens.len() - 1]);
        by.last.entry(last.as_str()).or_default().push(form);
        by.first.entry(first.as_str()).or_default().push(form);
    }
    by
});

/// The forms of `country` ending (or starting) with `token`.
fn ending_with<'a>(
    token: &str,
    country: Option<&'a str>,
) -> impl Iterator<Item = &'static LegalForm> + 'a {
    let found = BY_TOKEN.last.get(token).map(Vec::as_slice).unwrap_or(&[]);
    found
        .iter()
        .copied()
        .filter(move |form| applies(form, country))
}

fn starting_with<'a>(
    token: &str,
    country: Option<&'a str>,
) -> impl Iterator<Item = &'static LegalForm> + 'a {
    let found = BY_TOKEN.first.get(token).map(Vec::as_slice).unwrap_or(&[]);
    found
        .iter()
        .copied()
        .filter(move |form| applies(form, country))
}

/// `tokens` without the legal forms of `country`: repeatedly at the end, at the start for
/// forms written first, and anywhere for forms that cannot be ordinary words. Never empties
/// a name: a name that is only a legal form keeps it.
pub fn strip(tokens: &[String], country: Option<&str>) -> Vec<String> {
    let mut kept: Vec<String> = tokens.to_vec();
    loop {
        let before = kept.len();
        if kept.len() > 1 && kept.last().is_some_and(|last| misspelt_form(last)) {
            kept.pop();
        }
        let at_end = kept.last().and_then(|last| {
            ending_with(last, country)
                .find(|form| kept.len() > form.tokens.len() && kept.ends_with(&form.tokens))
        });
        if let Some(form) = at_end {
            kept.truncate(kept.len() - form.tokens.len());
        }
        let at_start = kept.first().and_then(|first| {
            starting_with(first, country).find(|form| {
                form.prefix && kept.len() > form.tokens.len() && kept.starts_with(&form.tokens)
            })
        });
        if let Some(form) = at_start {
            kept.drain(..form.tokens.len());
        }
        if kept.len() == before {
            break;
        }
    }
    let mut i = 1;
    while i + 1 < kept.len() {
        let inside = starting_with(&kept[i], country).find(|form| {
            let n = form.tokens.len();
            form.anywhere && i + n < kept.len() && kept[i..i + n] == form.tokens[..]
        });
        match inside {
            Some(form) => {
                kept.drain(i..i + form.tokens.len());
            }
            None => i += 1,
        }
    }
    kept
}

/// Long legal words are misspelt like any other ("Limted", "Corporaton"): one letter off
/// one of them, at the end of a name, is still that form.
fn misspelt_form(token: &str) -> bool {
    const LONG_FORMS: [&str; 6] = [
        "limited",
        "corporation",
        "incorporated",
        "company",
        "aktiengesellschaft",
        "aktiebolag",
    ];
    token.len() >= 6
        && LONG_FORMS
            .iter()
            .any(|form| *form != token && strsim::osa_distance(form, token) == 1)
}

/// Whether every token of `tokens` belongs to some legal form (a bracket holding "publ"
/// or "haftungsbeschränkt" is no alias).
pub fn only_legal_words(tokens: &[String]) -> bool {
    !tokens.is_empty()
        && tokens
            .iter()
            .all(|token| FORMS.iter().any(|form| form.tokens.contains(token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        raw_tokens(&super::super::names::clean(text))
    }

    fn stripped(name: &str, country: Option<&str>) -> String {
        strip(&words(name), country).join(" ")
    }

    #[test]
    fn multi_word_dotted_and_native_forms_are_stripped() {
        assert_eq!(stripped("Müller GmbH & Co. KG", Some("DE")), "muller");
        assert_eq!(
            stripped("Tata Consultancy Private Limited", Some("IN")),
            "tata consultancy"
        );
        assert_eq!(stripped("Globex p.l.c.", None), "globex");
        assert_eq!(stripped("Volvo Aktiebolag", Some("SE")), "volvo");
        assert_eq!(stripped("AB Volvo", Some("SE")), "volvo");
        assert_eq!(stripped("Romashka Sp. z o.o.", Some("PL")), "romashka");
        assert_eq!(
            stripped("Grupo Bimbo S.A.B. de C.V.", Some("MX")),
            "grupo bimbo"
        );
        assert_eq!(stripped("Sony 株式会社", Some("JP")), "sony");
        assert_eq!(stripped("Acme Pty Ltd", None), "acme");
        assert_eq!(stripped("Globex Limted", None), "globex", "a misspelt form");
    }

    #[test]
    fn forms_of_other_countries_and_ordinary_words_stay() {
        // "PT" is an Indonesian prefix, not part of an American name.
        assert_eq!(stripped("PT Cruiser Parts", Some("US")), "pt cruiser parts");
        assert_eq!(stripped("PT Telkom", Some("ID")), "telkom");
        // "Spa" is a legal form in Italy and a word everywhere: only at an edge.
        assert_eq!(
            stripped("Bliss Spa Retreat", Some("IT")),
            "bliss spa retreat"
        );
        assert_eq!(stripped("Company", None), "company");
        assert_eq!(
            stripped("Siemens AG Österreich", Some("AT")),
            "siemens osterreich"
        );
    }

    #[test]
    fn holdings_and_group_are_not_legal_forms() {
        assert_eq!(stripped("Globex Holdings Ltd", None), "globex holdings");
        assert_eq!(stripped("Initech Group", None), "initech group");
    }
}
