//! A linear scan of a document's text before anything parses it.
//!
//! async-graphql's parser recurses once per nested list, object or argument literal: a few
//! kilobytes of `[[[[…]]]]` overflow a worker's stack and abort the whole process, and its own
//! recursion limit covers selections only. The scan counts bracket nesting and tokens without
//! building anything, in one pass, so a document the parser could not survive is refused
//! before the parser sees it (Apollo Router's `parser_max_recursion` and `parser_max_tokens`,
//! Hot Chocolate's max-token limit).

/// Why a document was refused before parsing.
#[derive(Debug, PartialEq, Eq)]
pub enum TooLarge {
    Nesting(usize),
    Tokens(usize),
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TooLarge::Nesting(limit) => write!(
                f,
                "the document nests brackets, braces or parentheses more than {limit} deep"
            ),
            TooLarge::Tokens(limit) => write!(f, "the document has more than {limit} tokens"),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ScanLimits {
    pub max_nesting: usize,
    pub max_tokens: usize,
}

/// Checks `text` against `limits`, reading each byte once.
pub fn scan(text: &str, limits: ScanLimits) -> Result<(), TooLarge> {
    let bytes = text.as_bytes();
    let (mut at, mut depth, mut tokens) = (0usize, 0usize, 0usize);
    while at < bytes.len() {
        let byte = bytes[at];
        at = match byte {
            b'#' => skip_comment(bytes, at),
            b'"' => {
                tokens += 1;
                skip_string(bytes, at)
            }
            b'[' | b'{' | b'(' => {
                tokens += 1;
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(TooLarge::Nesting(limits.max_nesting));
                }
                at + 1
            }
            b']' | b'}' | b')' => {
                tokens += 1;
                depth = depth.saturating_sub(1);
                at + 1
            }
            b' ' | b'\t' | b'\n' | b'\r' | b',' => at + 1,
            _ if is_word(byte) => {
                tokens += 1;
                skip_word(bytes, at)
            }
            // Other punctuators (`!`, `$`, `:`, `=`, `@`, `|`, `&`) and anything the parser
            // will reject: one token each.
            _ => {
                tokens += 1;
                at + 1
            }
        };
        if tokens > limits.max_tokens {
            return Err(TooLarge::Tokens(limits.max_tokens));
        }
    }
    Ok(())
}

/// Names, numbers and the spread `...` are one token each however long.
fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'+')
}

fn skip_word(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && is_word(bytes[at]) {
        at += 1;
    }
    at
}

fn skip_comment(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at] != b'\n' && bytes[at] != b'\r' {
        at += 1;
    }
    at
}

/// Past a string starting at `at` (`"…"` or `"""…"""`); an unterminated one runs to the end.
fn skip_string(bytes: &[u8], at: usize) -> usize {
    if bytes[at..].starts_with(b"\"\"\"") {
        let mut i = at + 3;
        while i < bytes.len() {
            if bytes[i..].starts_with(b"\\\"\"\"") {
                i += 4;
            } else if bytes[i..].starts_with(b"\"\"\"") {
                return i + 3;
            } else {
                i += 1;
            }
        }
        return i;
    }
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ScanLimits = ScanLimits {
        max_nesting: 8,
        max_tokens: 40,
    };

    #[test]
    fn ordinary_documents_pass() {
        let query = r#"query Q($id: ID!) { node(id: $id) { ... on Partner { name } } }"#;
        assert_eq!(scan(query, LIMITS), Ok(()));
    }

    #[test]
    fn deep_nesting_is_refused_in_any_bracket() {
        for (open, close) in [("[", "]"), ("{a:", "}"), ("(", ")")] {
            let query = format!("{{ f(x: {}1{}) }}", open.repeat(9), close.repeat(9));
            assert_eq!(scan(&query, LIMITS), Err(TooLarge::Nesting(8)), "{open}");
        }
    }

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        let query = format!(
            "{{ f(x: \"{}\", y: \"\"\"{}\\\"\"\"\"\"\") # {}\n}}",
            "[".repeat(50),
            "{".repeat(50),
            "(".repeat(50)
        );
        assert_eq!(scan(&query, LIMITS), Ok(()));
    }

    #[test]
    fn too_many_tokens_are_refused() {
        let query = format!("{{ {} }}", "a ".repeat(41));
        assert_eq!(scan(&query, LIMITS), Err(TooLarge::Tokens(40)));
        let long_names = format!("{{ {} }}", "abcdefghij".repeat(1000));
        assert_eq!(scan(&long_names, LIMITS), Ok(()));
    }

    #[test]
    fn unterminated_strings_end_the_scan() {
        assert_eq!(scan("{ f(x: \"[[[[[[[[[[[[", LIMITS), Ok(()));
        assert_eq!(scan("{ f(x: \"\"\"[[[[[[[[[[[[", LIMITS), Ok(()));
    }
}
