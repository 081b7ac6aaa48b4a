//! The agent's words: templates per reply and language, shipped in `replies.txt`, each of which
//! a tenant may override. `{name}` placeholders are filled in when a reply is said.

use std::collections::{BTreeMap, HashMap};

use crate::{Invalid, Language};

pub struct Replies(HashMap<(&'static str, Language), &'static str>);

impl Replies {
    /// Reads `replies.txt`; a malformed line is a bug in the shipped file (a unit test reads it).
    pub fn shipped() -> Self {
        let mut replies = HashMap::new();
        for line in include_str!("replies.txt").lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let mut fields = line.splitn(3, ' ');
            let (Some(key), Some(language), Some(text)) = (fields.next(), fields.next(), fields.next()) else {
                panic!("replies.txt: expected `key language text`: {line}")
            };
            let language: Language = language.parse().unwrap_or_else(|e| panic!("replies.txt: {e}: {line}"));
            replies.insert((key, language), text);
        }
        Self(replies)
    }

    /// The shipped text, or the tenant's when it has one, with the placeholders filled in.
    pub fn say(
        &self,
        overrides: &BTreeMap<String, BTreeMap<String, String>>,
        key: &str,
        language: Language,
        values: &[(&str, &str)],
    ) -> String {
        let custom = overrides.get(key).and_then(|by_language| by_language.get(language.as_str()));
        let template = custom.map(String::as_str).or_else(|| self.0.get(&(key, language)).copied());
        let mut said = template.unwrap_or(key).to_owned();
        for (name, value) in values {
            said = said.replace(&format!("{{{name}}}"), value);
        }
        said
    }

    /// Checks a tenant's overrides: known replies and languages, and no placeholder the shipped
    /// reply does not fill. The errors, by path.
    pub fn check(&self, overrides: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<(String, Invalid)> {
        let mut errors = Vec::new();
        for (key, by_language) in overrides {
            let Some(shipped) = self.0.get(&(key.as_str(), Language::En)) else {
                errors.push((format!("replies/{key}"), Invalid::new("unknown_reply", "no reply has this name")));
                continue;
            };
            for (language, text) in by_language {
                let field = format!("replies/{key}/{language}");
                if let Err(invalid) = language.parse::<Language>() {
                    errors.push((field, invalid));
                } else if let Some(name) = placeholders(text).find(|name| !placeholders(shipped).any(|p| p == *name)) {
                    let message = format!("`{{{name}}}` is not filled in for this reply");
                    errors.push((field, Invalid::new("unknown_placeholder", message)));
                }
            }
        }
        errors
    }
}

fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).filter_map(|part| part.split_once('}').map(|(name, _)| name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reply_is_shipped_in_every_language_with_the_same_placeholders() {
        let replies = Replies::shipped();
        let keys: std::collections::BTreeSet<&str> = replies.0.keys().map(|(key, _)| *key).collect();
        for key in keys {
            let english: Vec<&str> = placeholders(replies.0[&(key, Language::En)]).collect();
            for language in Language::ALL {
                let text = replies.0.get(&(key, *language)).unwrap_or_else(|| panic!("{key} has no {language}"));
                let mut names: Vec<&str> = placeholders(text).collect();
                let mut expected = english.clone();
                names.sort();
                expected.sort();
                assert_eq!(names, expected, "{key} {language}");
            }
        }
    }

    #[test]
    fn tenants_override_replies_and_bad_overrides_are_named() {
        let replies = Replies::shipped();
        let mut overrides = BTreeMap::new();
        overrides.insert("goodbye".to_owned(), BTreeMap::from([("en".to_owned(), "Bye from {store}!".to_owned())]));
        overrides.insert("done_cancel".to_owned(), BTreeMap::from([("hi".to_owned(), "रद्द: {number}".to_owned())]));
        overrides.insert("nonsense".to_owned(), BTreeMap::new());
        let fields: Vec<String> = replies.check(&overrides).into_iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["replies/goodbye/en", "replies/nonsense"]);
        let said = replies.say(&overrides, "done_cancel", Language::Hi, &[("number", "1 0 2 3")]);
        assert_eq!(said, "रद्द: 1 0 2 3");
        let said = replies.say(&overrides, "done_cancel", Language::En, &[("number", "1 0 2 3")]);
        assert_eq!(said, "Done. Order 1 0 2 3 is cancelled.");
    }
}
