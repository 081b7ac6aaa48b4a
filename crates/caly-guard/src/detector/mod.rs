//! Request attack detector: decodes each field of a request the way a lenient back end would,
//! then looks for eight classes of attack in it. SQL injection and XSS go through
//! libinjection's tokenizers (the `libinjectionrs` port) and a rule table; the other classes
//! through rule tables alone. Sans-IO: it reads strings and returns findings; the HTTP layer
//! decides what a finding costs the caller.

mod decode;
mod request;
mod rules;

use std::borrow::Cow;

use regex::bytes::{RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};

pub use decode::decode;
pub use request::RequestView;

use rules::{RULES, View};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackClass {
    SqlInjection,
    Xss,
    PathTraversal,
    CommandInjection,
    Ssrf,
    Jndi,
    Shellshock,
    HeaderInjection,
}

impl AttackClass {
    pub const ALL: [Self; 8] = [
        Self::SqlInjection,
        Self::Xss,
        Self::PathTraversal,
        Self::CommandInjection,
        Self::Ssrf,
        Self::Jndi,
        Self::Shellshock,
        Self::HeaderInjection,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SqlInjection => "sql_injection",
            Self::Xss => "xss",
            Self::PathTraversal => "path_traversal",
            Self::CommandInjection => "command_injection",
            Self::Ssrf => "ssrf",
            Self::Jndi => "jndi",
            Self::Shellshock => "shellshock",
            Self::HeaderInjection => "header_injection",
        }
    }

    /// The parts of a request where this class of payload does harm. URLs in a `Referer` are
    /// not SSRF; a path segment is not a shell argument.
    fn inspects(self, source: Source) -> bool {
        use Source::*;
        match self {
            Self::SqlInjection => matches!(source, ArgName | ArgValue | Cookie | UserAgent | Referer | Path),
            Self::Xss => true,
            Self::PathTraversal => !matches!(source, Referer),
            Self::CommandInjection => matches!(source, ArgName | ArgValue | Cookie),
            Self::Ssrf => matches!(source, ArgName | ArgValue | Path),
            Self::Jndi | Self::Shellshock | Self::HeaderInjection => true,
        }
    }
}

/// Where in a request a field came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Path,
    ArgName,
    ArgValue,
    Cookie,
    UserAgent,
    Referer,
    Header,
}

/// What the service does with a finding of a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Off,
    Monitor,
    #[default]
    Block,
}

/// One match: the class, the rule that matched and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub class: AttackClass,
    pub rule: &'static str,
    pub location: String,
}

/// Compiled rule tables. Build once and share: matching takes `&self`.
pub struct Detector {
    enabled: [bool; 8],
    sets: [(View, RegexSet, Vec<usize>); 3],
}

impl Detector {
    /// A detector for the classes whose mode is not [`Mode::Off`].
    pub fn new(mode_of: impl Fn(AttackClass) -> Mode) -> Self {
        let enabled = AttackClass::ALL.map(|class| mode_of(class) != Mode::Off);
        let set_for = |view: View| {
            let members: Vec<usize> =
                (0..RULES.len()).filter(|&i| RULES[i].view == view && enabled[RULES[i].class as usize]).collect();
            let set = RegexSetBuilder::new(members.iter().map(|&i| RULES[i].pattern))
                .unicode(false)
                .size_limit(64 << 20)
                .dfa_size_limit(16 << 20)
                .build()
                .expect("the rule table compiles");
            (view, set, members)
        };
        Self { enabled, sets: [set_for(View::Lower), set_for(View::Sql), set_for(View::Compact)] }
    }

    fn enabled(&self, class: AttackClass, source: Source) -> bool {
        self.enabled[class as usize] && class.inspects(source)
    }

    /// The first finding in one field, if any. `form` says the field came from a query string or
    /// form body, where `+` is a space.
    pub fn scan(&self, source: Source, raw: &str, form: bool) -> Option<(AttackClass, &'static str)> {
        if raw.is_empty() {
            return None;
        }
        let decoded = decode(raw, form);
        if is_plain(&decoded) {
            return None;
        }
        if self.enabled(AttackClass::HeaderInjection, source)
            && source != Source::ArgValue
            && decoded.trim_end_matches(['\r', '\n']).contains(['\r', '\n'])
        {
            return Some((AttackClass::HeaderInjection, "crlf-line-break"));
        }
        // libinjection reads some prose as SQL ("one quarter (24%) of people") or an attribute
        // ("style=color:red"), and its SQL tokenizer is the costliest step: run it only on text
        // with a character that can break out of a quoted or numeric context.
        if self.enabled(AttackClass::SqlInjection, source)
            && (decoded.contains(['\'', '"', '`', '#']) || decoded.contains("--") || decoded.contains("/*"))
            && libinjectionrs::detect_sqli(decoded.as_bytes()).is_injection()
        {
            return Some((AttackClass::SqlInjection, "sqli-libinjection"));
        }
        if self.enabled(AttackClass::Xss, source)
            && decoded.contains(['<', '>', '"', '\'', '`'])
            && libinjectionrs::detect_xss(decoded.as_bytes()).is_injection()
        {
            return Some((AttackClass::Xss, "xss-libinjection"));
        }
        let lower = ascii_lower(&decoded);
        // A bare word (a JSON key, an enum value) needs neither the tokenizers nor the compact
        // rendering, and its SQL rendering is itself (`xunionselectfrom` still is SQL).
        let word = lower.len() <= 64 && lower.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        // Every Compact rule needs one of these characters.
        let compact_needed =
            !word && lower.contains(['<', ':', '.', '(', '[', '`', '$', '@', '!', '+', '\'', '"', '{', '=']);
        // The compact rendering is built from the SQL one, so comments go once.
        let sql = if word { Cow::Borrowed(lower.as_str()) } else { sql_view(&lower) };
        for (view, set, members) in &self.sets {
            let text: Cow<'_, str> = match view {
                View::Lower => Cow::Borrowed(&lower),
                View::Sql => Cow::Borrowed(&sql),
                View::Compact if !compact_needed => continue,
                View::Compact => Cow::Owned(compact_view(&sql)),
            };
            // Most fields match nothing; the cheaper yes/no search settles those.
            if !set.is_match(text.as_bytes()) {
                continue;
            }
            let hit = set
                .matches(text.as_bytes())
                .iter()
                .map(|m| &RULES[members[m]])
                .find(|rule| rule.class.inspects(source));
            if let Some(rule) = hit {
                return Some((rule.class, rule.id));
            }
        }
        None
    }
}

/// Text that cannot carry any of the payloads: no ASCII letters (digits, Devanagari, phone
/// numbers) and only harmless punctuation. Many real fields are like this, so this keeps the
/// detector cheap for them.
fn is_plain(text: &str) -> bool {
    text.chars().all(|c| !c.is_ascii() || c.is_ascii_digit() || matches!(c, ' ' | '-' | '_' | ',' | '+'))
}

/// Lowercase ASCII rendering for the rule tables. Other characters become `x`, or a space for
/// Latin-1 symbols and general punctuation (curly quotes, dashes): no payload needs them once
/// decoded, and a letter keeps word boundaries where the text had one (the `elt` in `Haßelt`
/// is not the SQL function).
fn ascii_lower(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            _ if c.is_ascii() => c.to_ascii_lowercase(),
            // Latin-1 characters a 7-bit decoder reads as markup: `¼script¾` is `<script>`.
            '\u{bc}' => '<',
            '\u{be}' => '>',
            '\u{a2}' => '"',
            '\u{a7}' => '\'',
            '\u{a0}'..='\u{bf}' | '\u{2000}'..='\u{206f}' => ' ',
            _ => 'x',
        })
        .collect()
}

/// SQL comments become a space and whitespace runs one space, as a SQL parser sees them.
fn sql_view(lower: &str) -> Cow<'_, str> {
    let bytes = lower.as_bytes();
    let single_spaced = !bytes.windows(2).any(|w| w[0].is_ascii_whitespace() && w[1].is_ascii_whitespace())
        && !bytes.iter().any(|&b| b.is_ascii_whitespace() && b != b' ');
    if single_spaced && !lower.contains("/*") && !lower.starts_with(' ') && !lower.ends_with(' ') {
        return Cow::Borrowed(lower);
    }
    let mut out = String::with_capacity(lower.len());
    let mut rest = lower;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        out.push(' ');
        rest = match rest[start + 2..].find("*/") {
            Some(end) => &rest[start + 2 + end + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    let mut collapsed = String::with_capacity(out.len());
    for word in out.split_ascii_whitespace() {
        if !collapsed.is_empty() {
            collapsed.push(' ');
        }
        collapsed.push_str(word);
    }
    Cow::Owned(collapsed)
}

/// The SQL rendering (comments already gone) without whitespace, control characters and
/// backslashes.
fn compact_view(sql: &str) -> String {
    sql.chars().filter(|c| !c.is_whitespace() && !c.is_control() && *c != '\\').collect()
}
