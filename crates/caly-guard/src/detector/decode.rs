//! Undoes the encodings an attacker stacks to slip a payload past pattern matching: repeated
//! percent-encoding (including IIS `%uXXXX`), overlong UTF-8, 7-bit-stripped bytes, JavaScript
//! `\uXXXX`/`\xNN` escapes, HTML entities, full-width ASCII look-alikes and null bytes. Every loop
//! is bounded, so a hostile input costs time linear in its length.
//!
//! Hand-written because the crates that decode one layer (`percent-encoding`, `html-escape`) stop
//! at the first invalid sequence or reject it, while a detector must decode what a lenient
//! back end would and carry on.

use std::borrow::Cow;

/// Percent-decoding rounds: enough for double and triple encoding, bounded against
/// `%25252525…` towers.
const PERCENT_ROUNDS: usize = 3;
/// Rounds of escape and entity decoding, each followed by one more percent-decoding round.
const ESCAPE_ROUNDS: usize = 2;

/// Decodes `raw`. `form` makes the first round treat `+` as a space, as query strings and
/// form bodies do.
pub fn decode(raw: &str, form: bool) -> Cow<'_, str> {
    if needs_decoding(raw, form) { Cow::Owned(decode_all(raw, form)) } else { Cow::Borrowed(raw) }
}

fn decode_all(raw: &str, form: bool) -> String {
    let mut bytes = raw.as_bytes().to_vec();
    percent_rounds(&mut bytes, form);
    let mut text = to_text(&bytes);
    for _ in 0..ESCAPE_ROUNDS {
        let unescaped = decode_entities(&unescape_js(&text)).into_owned();
        let mut again = unescaped.clone().into_bytes();
        let decoded = percent_decode(&again, false);
        if let Some(next) = decoded {
            again = next;
        }
        let next = to_text(&again);
        if next == text {
            break;
        }
        text = next;
    }
    fold(&text)
}

/// Whether any step below would change `raw`: without an escape character, a full-width
/// look-alike or a null byte, it is already what a back end would read (most fields are).
fn needs_decoding(raw: &str, form: bool) -> bool {
    raw.bytes().any(|b| DECODING_STARTS[usize::from(b)]) || form && raw.contains('+')
}

/// The bytes that start something to decode; 0xEF leads U+FF01..U+FF5E (and every
/// U+F000..U+FFFF) in UTF-8.
const DECODING_STARTS: [bool; 256] = {
    let mut starts = [false; 256];
    starts[b'%' as usize] = true;
    starts[b'\\' as usize] = true;
    starts[b'&' as usize] = true;
    starts[0] = true;
    starts[0xef] = true;
    starts
};

fn percent_rounds(bytes: &mut Vec<u8>, form: bool) {
    for round in 0..PERCENT_ROUNDS {
        match percent_decode(bytes, form && round == 0) {
            Some(next) => *bytes = next,
            None => break,
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// One round of `%XX` and `%uXXXX` decoding; `None` when nothing changed.
fn percent_decode(input: &[u8], plus_is_space: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let mut changed = false;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (input.get(i + 1).and_then(|&c| hex(c)), input.get(i + 2).and_then(|&c| hex(c)))
            {
                out.push(h << 4 | l);
                i += 3;
                changed = true;
                continue;
            }
            if matches!(input.get(i + 1), Some(b'u' | b'U')) {
                let digits = input
                    .get(i + 2..i + 6)
                    .and_then(|d| d.iter().try_fold(0u32, |acc, &c| Some(acc << 4 | u32::from(hex(c)?))));
                if let Some(c) = digits.and_then(char::from_u32) {
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    i += 6;
                    changed = true;
                    continue;
                }
            }
        }
        if b == b'+' && plus_is_space {
            out.push(b' ');
            changed = true;
        } else {
            out.push(b);
        }
        i += 1;
    }
    changed.then_some(out)
}

/// Bytes to text the way a lenient decoder would read them: overlong UTF-8 becomes the ASCII it
/// encodes, and any other invalid byte loses its high bit (the old US-ASCII trick that turns
/// `0xBC` into `<`).
fn to_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                out.push_str(valid);
                break;
            }
            Err(error) => {
                let (valid, invalid) = rest.split_at(error.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let used = match overlong(invalid) {
                    Some((c, used)) => {
                        out.push(c);
                        used
                    }
                    None => {
                        out.push(char::from(invalid[0] & 0x7f));
                        1
                    }
                };
                rest = &invalid[used..];
            }
        }
    }
    out
}

/// An overlong two- or three-byte sequence at the start of `bytes`, decoded.
fn overlong(bytes: &[u8]) -> Option<(char, usize)> {
    let cont = |b: u8| (0x80..=0xbf).contains(&b);
    match bytes {
        [lead @ (0xc0 | 0xc1), b1, ..] if cont(*b1) => Some((char::from((lead & 0x1f) << 6 | (b1 & 0x3f)), 2)),
        [0xe0, b1, b2, ..] if (0x80..=0x9f).contains(b1) && cont(*b2) => {
            char::from_u32(u32::from(b1 & 0x3f) << 6 | u32::from(b2 & 0x3f)).map(|c| (c, 3))
        }
        _ => None,
    }
}

/// JavaScript/JSON string escapes: `\uXXXX`, `\u{X…}` and `\xNN`.
fn unescape_js(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            let rest = &text[i + 1..];
            let decoded = if let Some(braced) = rest.strip_prefix("u{") {
                braced.find('}').filter(|&end| end <= 6).and_then(|end| {
                    let c = u32::from_str_radix(&braced[..end], 16).ok().and_then(char::from_u32)?;
                    Some((c, end + 3))
                })
            } else if let Some(digits) = rest.strip_prefix(['u', 'U']).and_then(|r| r.get(..4)) {
                u32::from_str_radix(digits, 16).ok().and_then(char::from_u32).map(|c| (c, 5))
            } else if let Some(digits) = rest.strip_prefix(['x', 'X']).and_then(|r| r.get(..2)) {
                u32::from_str_radix(digits, 16).ok().and_then(char::from_u32).map(|c| (c, 3))
            } else {
                None
            };
            if let Some((decoded, skip)) = decoded {
                out.push(decoded);
                for _ in 0..skip {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// HTML character references, numeric with or without the closing `;`, and the named ones
/// that matter for markup and script.
fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match entity(rest) {
            Some((c, used)) => {
                out.push(c);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The entity at the start of `text` (which starts with `&`) and how many bytes it used.
fn entity(text: &str) -> Option<(char, usize)> {
    let body = &text[1..];
    if let Some(number) = body.strip_prefix('#') {
        let (radix, digits) = match number.strip_prefix(['x', 'X']) {
            Some(hex) => (16, hex),
            None => (10, number),
        };
        let zeros = digits.bytes().take_while(|&b| b == b'0').count();
        let len = zeros + digits[zeros..].bytes().take(8).take_while(|b| (*b as char).is_digit(radix)).count();
        if len == 0 {
            return None;
        }
        let c = u32::from_str_radix(&digits[..len], radix).ok().and_then(char::from_u32)?;
        let prefix = 1 + 1 + (number.len() - digits.len()) + len;
        let used = prefix + usize::from(text[prefix..].starts_with(';'));
        return Some((c, used));
    }
    let name_len = body.bytes().take(10).take_while(u8::is_ascii_alphabetic).count();
    // The longest known name wins, so `&lbracejndi` reads as `{jndi` the way browsers read it.
    (2..=name_len).rev().find_map(|len| {
        let c = named_entity(&body[..len].to_ascii_lowercase())?;
        Some((c, 1 + len + usize::from(body[len..].starts_with(';'))))
    })
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "amp" => '&',
        "colon" => ':',
        "semi" => ';',
        "tab" => '\t',
        "newline" => '\n',
        "lpar" => '(',
        "rpar" => ')',
        "sol" => '/',
        "bsol" => '\\',
        "dollar" => '$',
        "lbrace" | "lcub" => '{',
        "rbrace" | "rcub" => '}',
        "lsqb" | "lbrack" => '[',
        "rsqb" | "rbrack" => ']',
        "excl" => '!',
        "num" => '#',
        "period" => '.',
        "comma" => ',',
        "equals" => '=',
        "grave" => '`',
        "plus" => '+',
        "percnt" => '%',
        "nbsp" => ' ',
        _ => return None,
    })
}

/// Full-width ASCII look-alikes to ASCII; null bytes removed.
fn fold(text: &str) -> String {
    text.chars()
        .filter(|&c| c != '\0')
        .map(|c| match u32::from(c) {
            0xff01..=0xff5e => char::from_u32(u32::from(c) - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_stacked_encodings() {
        assert_eq!(decode("%252e%252e%252fetc", false), "../etc");
        assert_eq!(decode("a+b%20c", true), "a b c");
        assert_eq!(decode("a+b", false), "a+b");
        assert_eq!(decode("%u003cscript%u003e", false), "<script>");
        assert_eq!(decode("%c0%af%c0%ae", false), "/.");
        assert_eq!(decode("%e0%80%af", false), "/");
        assert_eq!(decode("\\u003cimg\\x3e", false), "<img>");
        assert_eq!(decode("&lt;svg&#x20;onload&#61alert(1)&gt;", false), "<svg onload=alert(1)>");
        assert_eq!(decode("java&Tab;script&colon;", false), "java\tscript:");
        assert_eq!(decode("%26lt%3Bscript", false), "<script");
        assert_eq!(decode("ｓｅｌｅｃｔ", false), "select");
        assert_eq!(decode("a%00b", false), "ab");
        assert_eq!(decode("&#x24;&#0000000000123;jndi", false), "${jndi");
        assert_eq!(decode("$\\u0026lbracejndi", false), "${jndi");
        assert_eq!(decode("%bcscript%be", false), "<script>");
    }

    #[test]
    fn leaves_plain_text_alone() {
        for text in ["order 4512", "मेरा ऑर्डर कहाँ है", "50% off", "R&D", "Tom & Jerry", "\\path"]
        {
            assert_eq!(decode(text, false), text);
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_bounded(input in "\\PC{0,200}", form: bool) {
            let out = decode(&input, form);
            prop_assert!(out.len() <= input.len() * 4 + 8);
        }

        #[test]
        fn text_without_escapes_is_left_as_it_is(input in "[^%\\\\&\u{0}\u{f000}-\u{ffff}]{0,80}") {
            prop_assert!(!needs_decoding(&input, false));
            prop_assert_eq!(decode_all(&input, false), input);
        }

        #[test]
        fn percent_encoding_round_trips(text in "[a-zA-Z0-9 <>'\"/;:=(){}!?.,*#@^|~`-]{0,60}") {
            let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
            let decoded = decode(&encoded, false);
            let direct = decode(&text, false);
            prop_assert_eq!(decoded.as_ref(), direct.as_ref());
        }
    }
}
