#!/usr/bin/env python3
"""Builds tests/data/customer_pairs.tsv: labelled pairs of end-customer records (name,
domain, country) for scoring the conflict matcher. Run it again only to extend the
corpus; the TSV is what the tests read. Deterministic (seeded).

Every kind of variation partners type is covered for true matches, and the hard cases
for non-matches: the same name in another country, shared free-mail and hosting
domains, one-letter differences between different companies, shared first words.
Base companies are invented here from word lists, so no pair was written with the
matcher in view."""

import random
import unicodedata

rng = random.Random(20261207)

FIRST = ["Summit", "Harbor", "Northwind", "Bluestone", "Redwood", "Silverline", "Crescent",
         "Evergreen", "Ironbridge", "Lakeside", "Maple", "Pinnacle", "Quantum", "Riverbend",
         "Sterling", "Timberland", "Vantage", "Westbrook", "Zenith", "Aurora", "Beacon",
         "Cobalt", "Driftwood", "Emerald", "Falcon", "Granite", "Horizon", "Juniper", "Keystone",
         "Lighthouse", "Meridian", "Nimbus", "Oakridge", "Paragon", "Radiant", "Sapphire",
         "Trident", "Unity", "Velvet", "Wildflower", "Yellowstone", "Alder", "Brightwater",
         "Cedar", "Dovetail", "Elmwood", "Foxglove", "Goldcrest", "Hawthorn", "Inkwell"]
SECOND = ["Logistics", "Dental", "Bakery", "Analytics", "Foods", "Engineering", "Pharmacy",
          "Plumbing", "Robotics", "Textiles", "Brewing", "Insurance", "Architects", "Medical",
          "Marine", "Furniture", "Printing", "Ventures", "Clinics", "Outfitters", "Motors",
          "Hotels", "Software", "Capital", "Energy", "Farms", "Optics", "Labs", "Media", "Realty"]
LEGAL = {"US": ["Inc.", "LLC", "Corp.", "Corporation", "Incorporated", "Co."],
         "GB": ["Ltd", "Limited", "PLC", "p.l.c.", "LLP"],
         "DE": ["GmbH", "AG", "GmbH & Co. KG", "mbH", "UG (haftungsbeschränkt)"],
         "FR": ["SA", "SAS", "SARL", "S.A.S."],
         "NL": ["B.V.", "BV", "N.V."],
         "SE": ["AB", "Aktiebolag", "AB (publ)"],
         "IN": ["Pvt Ltd", "Private Limited", "Pvt. Ltd."],
         "SG": ["Pte Ltd", "Pte. Ltd."],
         "AU": ["Pty Ltd", "Pty. Ltd."],
         "IT": ["S.p.A.", "S.r.l.", "SRL"],
         "ES": ["S.L.", "S.A.", "Sociedad Limitada"],
         "PL": ["Sp. z o.o.", "S.A."],
         "JP": ["K.K.", "Kabushiki Kaisha", "株式会社"],
         "BR": ["Ltda", "S/A", "Ltda."],
         "MX": ["S.A. de C.V.", "S de RL de CV"],
         "NO": ["AS", "ASA"], "DK": ["A/S", "ApS"], "FI": ["Oy", "Oyj"]}
TLD = {"US": "com", "GB": "co.uk", "DE": "de", "FR": "fr", "NL": "nl", "SE": "se", "IN": "in",
       "SG": "com.sg", "AU": "com.au", "IT": "it", "ES": "es", "PL": "pl", "JP": "co.jp",
       "BR": "com.br", "MX": "com.mx", "NO": "no", "DK": "dk", "FI": "fi"}
COUNTRIES = list(LEGAL)
DESCRIPTORS = ["International", "Group", "Holdings", "Solutions", "Technologies", "Services",
               "Global", "Systems"]
FREE = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "gmx.de", "web.de",
        "yahoo.co.uk", "icloud.com", "protonmail.com", "aol.com", "mail.ru", "qq.com"]
HOSTS = ["myshopify.com", "wixsite.com", "github.io", "blogspot.com", "herokuapp.com",
         "squarespace.com", "netlify.app", "wordpress.com"]
NEIGHBOURS = {c: n for row in ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
              for i, c in enumerate(row) for n in [row[max(i - 1, 0):i] + row[i + 1:i + 2]]}

rows = []


def slug(name):
    return "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if c.isalnum() and c.isascii())


def company(country=None):
    country = country or rng.choice(COUNTRIES)
    name = f"{rng.choice(FIRST)} {rng.choice(SECOND)}"
    return name, country


def domain_of(name, country, style=None):
    style = style or rng.choice(["www", "bare", "https", "mail"])
    host = f"{slug(name)}.{TLD[country]}"
    return {"www": f"www.{host}", "bare": host, "https": f"https://{host}/",
            "mail": f"info@{host}"}[style]


def legal(country):
    return rng.choice(LEGAL[country])


def add(label, kind, a, b):
    rows.append((label, kind) + a + b)


def maybe(value, p=0.5):
    return value if rng.random() < p else ""


def typo(word):
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(["delete", "swap", "double", "neighbour"])
    if op == "delete":
        return word[:i] + word[i + 1:]
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    c = word[i].lower()
    n = NEIGHBOURS.get(c)
    return word[:i] + (rng.choice(n) if n else c) + word[i + 1:]


def ocr(text):
    for a, b in [("m", "rn"), ("w", "vv"), ("l", "1"), ("o", "0"), ("rn", "m")]:
        if a in text[1:]:
            i = text.index(a, 1)
            return text[:i] + b + text[i + len(a):]
    return text + "s"


# ---- true matches ----
for _ in range(30):  # legal forms: dropped, swapped, written differently
    name, c = company()
    add(1, "legal_form", (f"{name} {legal(c)}", maybe(domain_of(name, c)), c),
        (f"{name} {legal(c)}" if rng.random() < 0.5 else name, "", maybe(c, 0.7)))
for _ in range(16):  # case and punctuation
    name, c = company()
    add(1, "case_punctuation", (f"{name}, {legal(c)}", domain_of(name, c), c),
        (f"{name.upper()} {legal(c).upper()}", "", c))
for _ in range(30):  # typing errors in a long word
    name, c = company()
    words = name.split()
    j = max(range(len(words)), key=lambda k: len(words[k]))
    words[j] = typo(words[j])
    add(1, "typo", (name, maybe(domain_of(name, c)), c), (" ".join(words), "", maybe(c)))
for _ in range(14):  # scanning errors
    name, c = company()
    add(1, "ocr", (f"{name} {legal(c)}", "", c), (ocr(name), "", maybe(c)))
for _ in range(10):  # "The"
    name, c = company("US")
    add(1, "the", (f"The {name}", domain_of(name, c), c), (f"{name}, The" if rng.random() < 0.3 else name, "", maybe(c)))
for _ in range(10):  # word order
    name, c = company()
    a, b = name.split()
    add(1, "word_order", (f"{b} {a}", "", c), (f"{a} {b} {legal(c)}", "", maybe(c)))
for saint in ["Mary", "Luke", "Helena", "Jude", "Andrew", "George", "Clair", "Lawrence"]:
    add(1, "saint", (f"St. {saint}'s Hospital", "", "US"), (f"Saint {saint}s Hospital", "", "US"))
for _ in range(14):  # joined and split words
    first, c = rng.choice(FIRST), rng.choice(COUNTRIES)
    second = rng.choice(["Peak", "Soft", "Works", "Point", "Line", "Gate", "Wave", "Field"])
    add(1, "compound", (f"{first}{second} {legal(c)}", "", c), (f"{first} {second}", "", maybe(c)))
UNICODE = [("Müller Bau", "Mueller Bau", "DE"), ("Müller Bau", "Muller Bau", "DE"),
           ("Ålborg Marine", "Aalborg Marine", "DK"), ("Søren Træ", "Soeren Trae", "DK"),
           ("Straße Logistik", "Strasse Logistik", "DE"), ("Café Lumière", "Cafe Lumiere", "FR"),
           ("Zürich Optik", "Zuerich Optik", "CH"), ("Björk Design", "Bjork Design", "SE"),
           ("Łódź Meble", "Lodz Meble", "PL"), ("São Paulo Têxtil", "Sao Paulo Textil", "BR"),
           ("Øresund Shipping", "Oeresund Shipping", "DK"), ("Crème Brûlée Bakery", "Creme Brulee Bakery", "FR"),
           ("Göteborg Energi", "Goteborg Energi", "SE"), ("Núñez Abogados", "Nunez Abogados", "ES"),
           ("Dvořák Audio", "Dvorak Audio", "CZ"), ("Hügel Weine", "Huegel Weine", "DE")]
for a, b, c in UNICODE:
    add(1, "unicode", (a, "", c), (b, "", c))
    add(1, "unicode_decomposed", (a, "", c), (unicodedata.normalize("NFD", a), "", ""))
for a, b, c in [("ＡＣＭＥ Ｒｏｂｏｔｉｃｓ", "Acme Robotics", "JP"), ("Globex\u200b Analytics", "Globex Analytics", "US"),
                ("Initech\u00ad Software", "Initech Software", "US"), ("Ｓｕｍｍｉｔ Ｆｏｏｄｓ", "Summit Foods", "JP")]:
    add(1, "unicode_width_format", (a, "", c), (b, "", c))
for name, uni, c in [("München Bau", "münchen-bau.de", "DE"), ("Zürich Optik", "zürich-optik.ch", "CH"),
                     ("Göteborg Energi", "göteborgenergi.se", "SE"), ("Crème Bakery", "crème.fr", "FR")]:
    puny = uni.encode("idna").decode()
    add(1, "unicode_domain", (name, uni, c), (name.replace("ü", "ue").replace("ö", "o").replace("è", "e") + " GmbH", puny, c))
for _ in range(14):  # trading names
    owner, c = company(rng.choice(["GB", "US", "AU", "IE" if False else "GB"]))
    trade, _ = company(c)
    marker = rng.choice(["t/a", "T/A", "d/b/a", "DBA", "trading as"])
    add(1, "alias", (f"{owner} {legal(c)} {marker} {trade}", "", c), (trade, maybe(domain_of(trade, c)), c))
for _ in range(6):
    name, c = company()
    other, _ = company(c)
    add(1, "bracket_alias", (f"{name} {legal(c)} ({other})", "", c), (other, "", c))
for _ in range(24):  # descriptive words added
    name, c = company()
    add(1, "descriptor", (name, maybe(domain_of(name, c)), c),
        (f"{name} {rng.choice(DESCRIPTORS)} {maybe(legal(c), 0.5)}".strip(), "", maybe(c)))
ABBR = [("International", "Intl"), ("International", "Int'l"), ("Manufacturing", "Mfg"),
        ("Management", "Mgmt"), ("Brothers", "Bros."), ("Associates", "Assoc."),
        ("and", "&"), ("Center", "Ctr"), ("Systems", "Sys"), ("Technology", "Tech")]
for _ in range(20):
    first, c = rng.choice(FIRST), rng.choice(COUNTRIES)
    long, short = rng.choice(ABBR)
    if long == "and":
        a, b = f"{first} and {rng.choice(SECOND)}", None
        b = a.replace(" and ", " & ")
    else:
        a = f"{first} {long} {legal(c)}"
        b = f"{first} {short}"
    add(1, "abbreviation", (a, "", c), (b, "", maybe(c)))
ACRONYMS = [("International Business Machines", "IBM"), ("Hewlett Packard Enterprise", "HPE"),
            ("Advanced Micro Devices", "AMD"), ("British Petroleum", "BP"),
            ("Minnesota Mining and Manufacturing", "3M"),
            ("Koninklijke Luchtvaart Maatschappij", "KLM"), ("Bayerische Motoren Werke", "BMW"),
            ("Tata Consultancy Services", "TCS"), ("General Electric Healthcare", "GE Healthcare"),
            ("Allgemeine Elektricitäts Gesellschaft", "AEG"), ("Standard Chartered Bank", "SCB"),
            ("Royal Bank of Canada", "RBC"), ("Deutsche Telekom Systems", "DT Systems"),
            ("Pacific Gas Electric", "PG&E")]
for long, short in ACRONYMS:
    add(1, "acronym", (long, "", ""), (short, "", ""))
for _ in range(26):  # the same domain however written; names differ in form
    name, c = company()
    host = f"{slug(name)}.{TLD[c]}"
    a_dom = rng.choice([f"https://www.{host}/contact", f"sales@{host}", f"eu.{host}", host])
    b_dom = rng.choice([f"WWW.{host.upper()}", f"{host}.", f"http://{host}", f"jane.doe@{host}"])
    b_name = rng.choice([name.split()[0], f"{name.split()[0]} {rng.choice(DESCRIPTORS)}", name])
    add(1, "same_domain", (f"{name} {legal(c)}", a_dom, c), (b_name, b_dom, maybe(c)))
for n, d in [("Three Rivers", "3 Rivers"), ("Seven Seas", "7 Seas"), ("First Choice", "1st Choice"),
             ("Twenty First Century", "21st Century"), ("Two Sisters", "2 Sisters"),
             ("Four Seasons Catering", "4 Seasons Catering"), ("Ten Oaks", "10 Oaks"),
             ("Five Star Motors", "5 Star Motors")]:
    add(1, "number_words", (n + " Ltd", "", "GB"), (d, "", "GB"))
for _ in range(10):  # profile pages
    name, c = company()
    page = slug(name)
    add(1, "profile_url", (name, f"https://www.facebook.com/{page}/", c), (f"{name} {legal(c)}", f"facebook.com/{page}", c))
for _ in range(10):  # free mail on one side, the name decides
    name, c = company()
    add(1, "free_mail_same_name", (f"{name} {legal(c)}", f"{slug(name)}@{rng.choice(FREE)}", c), (name, domain_of(name, c), c))

# ---- not the same customer ----
for _ in range(30):  # the same name in another country
    name, c = company()
    other = rng.choice([x for x in COUNTRIES if x != c])
    add(0, "same_name_other_country", (f"{name} {legal(c)}", maybe(domain_of(name, c), 0.6), c),
        (f"{name} {legal(other)}", maybe(domain_of(name, other), 0.6), other))
for _ in range(24):  # unrelated companies on one free-mail provider, names sharing a word
    first, c = rng.choice(FIRST), rng.choice(COUNTRIES)
    s1, s2 = rng.sample(SECOND, 2)
    mail = rng.choice(FREE)
    add(0, "shared_free_mail", (f"{first} {s1}", f"{slug(first + s1)}@{mail}", c),
        (f"{rng.choice(FIRST)} {s2}", f"{slug(first)}.{slug(s2)}@{mail}", c))
for _ in range(24):  # shops on one hosting platform
    a, c = company()
    b, _ = company(c)
    host = rng.choice(HOSTS)
    add(0, "shared_hosting", (a, f"{slug(a)}.{host}", c), (b, f"https://{slug(b)}.{host}/", c))
ONE_LETTER = [("Vertex", "Vortex"), ("Acme", "Acne"), ("Nova", "Nava"), ("Lumen", "Lumin"),
              ("Kappa", "Kappo"), ("Nexus", "Nexos"), ("Sigma", "Sigmo"), ("Orion", "Orison"),
              ("Delta", "Delia"), ("Atlas", "Atlis"), ("Borealis", "Boreas"), ("Helix", "Heliox"),
              ("Corvus", "Corvis"), ("Tessera", "Tesseract"), ("Pegasus", "Pegasis"),
              ("Arca", "Arco"), ("Zeta", "Zena"), ("Iris", "Irix"), ("Vela", "Vega"), ("Lyra", "Lyre")]
for a, b in ONE_LETTER:
    s = rng.choice(SECOND)
    c = rng.choice(COUNTRIES)
    add(0, "one_letter", (f"{a} {s}", f"{slug(a + s)}.{TLD[c]}", c), (f"{b} {s}", f"{slug(b + s)}.{TLD[c]}", c))
for _ in range(30):  # a first word shared, different businesses
    first, c = rng.choice(FIRST), rng.choice(COUNTRIES)
    s1, s2 = rng.sample(SECOND, 2)
    add(0, "shared_first_word", (f"{first} {s1} {legal(c)}", maybe(domain_of(first + s1, c)), c),
        (f"{first} {s2}", maybe(domain_of(first + s2, c)), maybe(c)))
for _ in range(30):  # simply different
    a, c = company()
    b, d = company()
    if a.split()[0] == b.split()[0] or a.split()[1] == b.split()[1]:
        continue
    add(0, "different", (a, maybe(domain_of(a, c)), c), (b, maybe(domain_of(b, d)), maybe(d)))
for _ in range(14):  # a second word shared, different businesses
    s, c = rng.choice(SECOND), rng.choice(COUNTRIES)
    f1, f2 = rng.sample(FIRST, 2)
    add(0, "shared_second_word", (f"{f1} {s}", "", c), (f"{f2} {s}", "", c))
for _ in range(10):  # a descriptor shared, nothing else
    c = rng.choice(COUNTRIES)
    d1, d2 = rng.sample(DESCRIPTORS, 2)
    add(0, "generic_words", (f"Global {d1}", "", c), (f"Global {d2}", "", c))

with open(__file__.replace("make_customer_pairs.py", "customer_pairs.tsv"), "w", encoding="utf-8") as out:
    out.write("label\tkind\tname_a\tdomain_a\tcountry_a\tname_b\tdomain_b\tcountry_b\n")
    for row in rows:
        out.write("\t".join(str(x) for x in row) + "\n")
print(len(rows), "pairs,", sum(1 for r in rows if r[0] == 1), "matches")
