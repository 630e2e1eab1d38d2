//! A customer's web address or e-mail address as evidence of who it is: the registrable
//! domain under the Public Suffix List (its private section too, so two shops on one
//! hosting platform are two domains), IDNA in both directions, free-mail providers (no
//! evidence at all), and profile pages whose path names the business.

/// What a web or e-mail address says about a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Web {
    /// The host as typed, in ASCII (punycode), without `www.`.
    pub host: String,
    pub identity: Identity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The business's own registrable domain (`globex.co.uk`, `shop.myshopify.com`) and its
    /// label (`globex`).
    Domain { registrable: String, label: String },
    /// A page of a platform that names the business in its path (`facebook.com/globex`).
    Profile(String),
    /// A free-mail provider, a platform without a path, or a public suffix itself: shared
    /// by unrelated customers, so no evidence.
    Shared,
}

impl Web {
    /// The key two addresses of one customer share: the registrable domain or the profile.
    pub fn identity_key(&self) -> Option<String> {
        match &self.identity {
            Identity::Domain { registrable, .. } => Some(registrable.clone()),
            Identity::Profile(profile) => Some(profile.clone()),
            Identity::Shared => None,
        }
    }

    /// The host as people read it (`münchen.de` for `xn--mnchen-3ya.de`).
    pub fn display(&self) -> String {
        let (unicode, result) = idna::domain_to_unicode(&self.host);
        if result.is_ok() {
            unicode
        } else {
            self.host.clone()
        }
    }
}

/// Parses a website, a bare domain or an e-mail address. `Ok(None)` for blank input;
/// `Err` with the reason when it is no domain name.
pub fn parse(input: &str) -> Result<Option<Web>, String> {
    let text = input.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > 500 {
        return Err("must be at most 500 characters".into());
    }
    let (host, path) = host_and_path(text);
    let ascii = idna::domain_to_ascii(host.trim_end_matches('.'))
        .map_err(|_| format!("{text:?} is not a domain name"))?;
    let ascii = strip_www(&ascii);
    if !is_domain_name(ascii) {
        return Err(format!("{text:?} is not a domain name"));
    }
    let host = ascii.to_owned();
    let identity = identify(&host, &path);
    Ok(Some(Web { host, identity }))
}

/// The host and the lower-cased path segments of a URL, bare domain or e-mail address.
fn host_and_path(text: &str) -> (String, Vec<String>) {
    let without_scheme = match text.split_once("://") {
        Some((_, rest)) => rest,
        None => text,
    };
    let end = without_scheme
        .find(['/', '?', '#'])
        .unwrap_or(without_scheme.len());
    let mut host = &without_scheme[..end];
    if let Some((_, after_at)) = host.rsplit_once('@') {
        host = after_at;
    }
    if let Some((name, port)) = host.rsplit_once(':') {
        if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) {
            host = name;
        }
    }
    let path = without_scheme[end..]
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| segment.to_lowercase())
        .collect();
    (host.to_lowercase(), path)
}

fn strip_www(host: &str) -> &str {
    for prefix in ["www.", "www1.", "www2.", "www3.", "m."] {
        if let Some(rest) = host.strip_prefix(prefix) {
            if rest.contains('.') {
                return rest;
            }
        }
    }
    host
}

/// Letters, digits and hyphens in labels of at most 63, two labels at least, a top-level
/// label that is not all digits (an IP address names no business).
fn is_domain_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    host.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
}

fn identify(host: &str, path: &[String]) -> Identity {
    let Some(registrable) = psl::domain_str(host) else {
        return Identity::Shared;
    };
    if let Some(profile) = profile(registrable, path) {
        return Identity::Profile(profile);
    }
    let label = registrable
        .split('.')
        .next()
        .unwrap_or(registrable)
        .to_owned();
    if HOSTING.contains(&registrable) && host != registrable {
        // A site builder the Public Suffix List does not list: the site is the business.
        let site = host[..host.len() - registrable.len() - 1]
            .rsplit('.')
            .next()
            .unwrap_or(host);
        return Identity::Domain {
            registrable: format!("{site}.{registrable}"),
            label: site.to_owned(),
        };
    }
    if is_free_mail(registrable, &label) || PLATFORMS.contains(&registrable) {
        return Identity::Shared;
    }
    Identity::Domain {
        registrable: registrable.to_owned(),
        label,
    }
}

/// Platforms whose pages belong to businesses, with the path segments that name one
/// (`linkedin.com/company/globex` → 2).
const PROFILE_HOSTS: &[(&str, &str, usize)] = &[
    ("facebook.com", "", 1),
    ("fb.com", "", 1),
    ("instagram.com", "", 1),
    ("twitter.com", "", 1),
    ("x.com", "", 1),
    ("tiktok.com", "", 1),
    ("pinterest.com", "", 1),
    ("github.com", "", 1),
    ("linkedin.com", "company", 2),
    ("linkedin.com", "school", 2),
    ("xing.com", "pages", 2),
    ("yelp.com", "biz", 2),
    ("youtube.com", "c", 2),
    ("youtube.com", "channel", 2),
    ("youtube.com", "user", 2),
    ("youtube.com", "", 1),
];

/// Path segments of profile hosts that are pages of the platform, not of a business.
const PLATFORM_PAGES: &[&str] = &[
    "pages",
    "profile.php",
    "groups",
    "watch",
    "home",
    "login",
    "search",
    "share",
    "sharer",
    "in",
    "pub",
];

fn profile(registrable: &str, path: &[String]) -> Option<String> {
    for (host, section, segments) in PROFILE_HOSTS {
        if *host != registrable || path.len() < *segments {
            continue;
        }
        if !section.is_empty() && path[0] != *section {
            continue;
        }
        let name = &path[segments - 1];
        let name = name.trim_start_matches('@');
        if name.is_empty() || (section.is_empty() && PLATFORM_PAGES.contains(&name)) {
            continue;
        }
        let mut key = (*host).to_owned();
        for segment in path[..segments - 1]
            .iter()
            .map(String::as_str)
            .chain([name])
        {
            key.push('/');
            key.push_str(segment);
        }
        return Some(key);
    }
    None
}

/// Hosts of many unrelated businesses that the Public Suffix List does not split (pages
/// on them carry no identity without a profile path).
const PLATFORMS: &[&str] = &[
    "facebook.com",
    "fb.com",
    "instagram.com",
    "twitter.com",
    "x.com",
    "linkedin.com",
    "youtube.com",
    "tiktok.com",
    "pinterest.com",
    "github.com",
    "xing.com",
    "yelp.com",
    "google.com",
    "sites.google.com",
    "business.site",
    "wa.me",
    "linktr.ee",
    "etsy.com",
    "ebay.com",
    "amazon.com",
];

/// Site builders whose customers' sites are subdomains, missing from the Public Suffix
/// List's private section.
const HOSTING: &[&str] = &[
    "squarespace.com",
    "wordpress.com",
    "weebly.com",
    "wix.com",
    "godaddysites.com",
    "jimdosite.com",
    "jimdofree.com",
    "strikingly.com",
    "site123.me",
    "webnode.com",
    "ueniweb.com",
    "mystrikingly.com",
    "yolasite.com",
    "tilda.ws",
    "shopify.com",
    "bigcartel.com",
    "square.site",
    "business.site",
    "sites.google.com",
];

/// Free-mail and consumer ISP providers, by the label of their domain under any public
/// suffix (`yahoo.co.uk`, `hotmail.fr`, `gmx.de`), and by whole domain where the label
/// alone is a common word (`web.de`, `mail.ru`). No crate in the Rust registry embeds such
/// a list without downloading it when it builds, so it is kept here.
const FREE_MAIL_LABELS: &[&str] = &[
    "gmail",
    "googlemail",
    "yahoo",
    "ymail",
    "rocketmail",
    "hotmail",
    "outlook",
    "msn",
    "windowslive",
    "aol",
    "aim",
    "icloud",
    "gmx",
    "yandex",
    "protonmail",
    "proton",
    "tutanota",
    "tuta",
    "zoho",
    "zohomail",
    "fastmail",
    "hushmail",
    "mailfence",
    "posteo",
    "runbox",
    "qq",
    "163",
    "126",
    "yeah",
    "sina",
    "sohu",
    "aliyun",
    "naver",
    "daum",
    "hanmail",
    "rediffmail",
    "libero",
    "virgilio",
    "tiscali",
    "seznam",
    "laposte",
    "wanadoo",
    "sfr",
    "freenet",
    "arcor",
    "bluewin",
    "telenet",
    "skynet",
    "ziggo",
    "kpnmail",
    "hetnet",
    "xs4all",
    "btinternet",
    "btopenworld",
    "virginmedia",
    "ntlworld",
    "blueyonder",
    "talktalk",
    "tiscali",
    "comcast",
    "verizon",
    "sbcglobal",
    "bellsouth",
    "att",
    "earthlink",
    "charter",
    "cox",
    "optonline",
    "juno",
    "netzero",
    "bigpond",
    "optusnet",
    "iinet",
    "shaw",
    "rogers",
    "sympatico",
    "telus",
    "videotron",
    "rambler",
    "bk",
    "inbox",
    "onet",
    "interia",
    "wp",
    "o2",
    "centrum",
    "abv",
    "mailbox",
    "lycos",
    "excite",
    "mac",
    "me",
    "pm",
    "hey",
    "email",
    "usa",
    "uol",
    "bol",
    "terra",
    "ig",
    "prodigy",
    "mindspring",
];

const FREE_MAIL_DOMAINS: &[&str] = &[
    "web.de",
    "t-online.de",
    "mail.ru",
    "list.ru",
    "mail.com",
    "mail.ua",
    "ukr.net",
    "i.ua",
    "free.fr",
    "orange.fr",
    "live.com",
    "live.co.uk",
    "live.fr",
    "live.de",
    "live.nl",
    "live.it",
    "live.ca",
    "live.com.au",
    "sky.com",
    "home.nl",
    "planet.nl",
    "chello.nl",
    "a1.net",
    "aon.at",
    "gmx.net",
    "online.no",
    "telia.com",
    "jubii.dk",
    "yahoo.com",
    "163.com",
    "126.com",
    "139.com",
    "189.cn",
    "21cn.com",
    "yahoo.co.jp",
    "nifty.com",
    "ocn.ne.jp",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "softbank.ne.jp",
];

fn is_free_mail(registrable: &str, label: &str) -> bool {
    FREE_MAIL_DOMAINS.contains(&registrable) || FREE_MAIL_LABELS.contains(&label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(input: &str) -> Option<String> {
        parse(input).unwrap().and_then(|web| web.identity_key())
    }

    #[test]
    fn urls_subdomains_and_emails_reduce_to_the_registrable_domain() {
        assert_eq!(
            key("https://www.Globex.com/about?x=1"),
            Some("globex.com".into())
        );
        assert_eq!(key("eu.sales.globex.com"), Some("globex.com".into()));
        assert_eq!(key("info@globex.co.uk"), Some("globex.co.uk".into()));
        assert_eq!(key("shop.globex.com.au:8443"), Some("globex.com.au".into()));
    }

    #[test]
    fn unicode_and_punycode_are_one_domain() {
        assert_eq!(key("münchen-bau.de"), key("xn--mnchen-bau-9db.de"));
        let web = parse("XN--MNCHEN-BAU-9DB.DE").unwrap().unwrap();
        assert_eq!(web.display(), "münchen-bau.de");
    }

    #[test]
    fn free_mail_and_bare_platforms_are_no_evidence() {
        assert_eq!(key("joe.plumbing@gmail.com"), None);
        assert_eq!(key("shop@yahoo.co.uk"), None);
        assert_eq!(key("contact@web.de"), None);
        assert_eq!(key("facebook.com"), None);
        assert_eq!(key("myshopify.com"), None, "a public suffix itself");
    }

    #[test]
    fn private_suffixes_and_profile_paths_keep_businesses_apart() {
        assert_eq!(
            key("bellas.myshopify.com"),
            Some("bellas.myshopify.com".into())
        );
        assert_ne!(key("bellas.myshopify.com"), key("other.myshopify.com"));
        assert_eq!(
            key("https://www.facebook.com/SunPeakBakery/"),
            Some("facebook.com/sunpeakbakery".into())
        );
        assert_eq!(
            key("linkedin.com/company/globex"),
            Some("linkedin.com/company/globex".into())
        );
        assert_ne!(key("facebook.com/a-shop"), key("facebook.com/b-shop"));
    }

    #[test]
    fn what_is_no_domain_is_refused() {
        for bad in [
            "not a domain",
            "globex",
            "-globex.com",
            "exa mple.com",
            "a_b.com",
            "10.0.0.1",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse("  ").unwrap(), None);
    }
}
