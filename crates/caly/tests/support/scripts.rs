//! Scripted conversations played through the sandbox API; the scripts are in
//! `tests/fixtures/conversations/*.script`, each played in a tenant of its own.
//!
//! A script block, `## title` first, expands to one conversation per language it names:
//! - `caller +91…` — the calling number (optional);
//! - `> text` or `> en: … | hinglish: … | hi: …` — the caller says it;
//! - `>> 1001#` — the caller presses keys;
//! - `< text` (or per language) — the agent's answer to the last message contains it;
//! - `? intent` — the last message was understood as this intent;
//! - `= action <kind> <status>` / `= no action` — the call's actions;
//! - `= order <number> <status>` — the order, as the tenant's store has it now;
//! - `= ended <outcome>` — the call ended so;
//! - `= approve` — a supervisor approves the call's waiting action.

use std::future::Future;

use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Owner, TestApp};

#[derive(Debug, Clone)]
pub enum Step {
    Say(String),
    Keys(String),
    Reply(String),
    Intent(String),
    Action { kind: String, status: String },
    NoAction,
    Order { number: String, status: String },
    Ended(String),
    Approve,
}

#[derive(Debug)]
pub struct Script {
    title: String,
    language: String,
    caller: Option<String>,
    steps: Vec<Step>,
}

/// `en: a | hi: b` → the text for `language`; a line without prefixes is for every language.
fn for_language<'a>(text: &'a str, language: &str) -> Option<&'a str> {
    let variants: Vec<(&str, &str)> = text
        .split(" | ")
        .filter_map(|part| part.split_once(": ").filter(|(l, _)| ["en", "hi", "hinglish"].contains(l)))
        .collect();
    if variants.is_empty() {
        return Some(text);
    }
    variants.into_iter().find(|(l, _)| *l == language).map(|(_, t)| t)
}

fn languages_of(lines: &[&str]) -> Vec<String> {
    let mut languages = Vec::new();
    for line in lines {
        for part in line.split(" | ") {
            let part = part.trim_start_matches(['>', '<', ' ']);
            if let Some((language, _)) = part.split_once(": ").filter(|(l, _)| ["en", "hi", "hinglish"].contains(l))
                && !languages.iter().any(|l| l == language)
            {
                languages.push(language.to_owned());
            }
        }
    }
    if languages.is_empty() {
        languages.push("any".into());
    }
    languages
}

fn parse(file: &str, text: &str) -> Vec<Script> {
    let mut scripts = Vec::new();
    for block in text.split("\n## ").map(|b| b.trim_start_matches("## ")).filter(|b| !b.trim().is_empty()) {
        let mut lines = block.lines();
        let title = lines.next().unwrap().trim().to_owned();
        let lines: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
        for language in languages_of(&lines) {
            let mut script = Script {
                title: format!("{file}: {title} [{language}]"),
                language: language.clone(),
                caller: None,
                steps: Vec::new(),
            };
            for line in &lines {
                let step = if let Some(caller) = line.strip_prefix("caller ") {
                    script.caller = Some(caller.to_owned());
                    continue;
                } else if let Some(keys) = line.strip_prefix(">> ") {
                    Step::Keys(keys.to_owned())
                } else if let Some(said) = line.strip_prefix("> ") {
                    match for_language(said, &language) {
                        Some(said) => Step::Say(said.to_owned()),
                        None => panic!("{}: `{line}` has no {language}", script.title),
                    }
                } else if let Some(reply) = line.strip_prefix("< ") {
                    match for_language(reply, &language) {
                        Some(reply) => Step::Reply(reply.to_owned()),
                        None => continue,
                    }
                } else if let Some(intent) = line.strip_prefix("? ") {
                    Step::Intent(intent.to_owned())
                } else if *line == "= no action" {
                    Step::NoAction
                } else if *line == "= approve" {
                    Step::Approve
                } else if let Some(rest) = line.strip_prefix("= action ") {
                    let (kind, status) = rest.split_once(' ').expect("= action <kind> <status>");
                    Step::Action { kind: kind.into(), status: status.into() }
                } else if let Some(rest) = line.strip_prefix("= order ") {
                    let (number, status) = rest.split_once(' ').expect("= order <number> <status>");
                    Step::Order { number: number.into(), status: status.into() }
                } else if let Some(outcome) = line.strip_prefix("= ended ") {
                    Step::Ended(outcome.to_owned())
                } else {
                    panic!("{}: cannot read `{line}`", script.title)
                };
                script.steps.push(step);
            }
            scripts.push(script);
        }
    }
    scripts
}

/// Every script in the files whose names start with one of `prefixes` (all when empty).
pub fn scripts(prefixes: &[&str]) -> Vec<Script> {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/conversations");
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            prefixes.is_empty() || prefixes.iter().any(|x| p.file_name().unwrap().to_string_lossy().starts_with(x))
        })
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|path| parse(&path.file_name().unwrap().to_string_lossy(), &std::fs::read_to_string(path).unwrap()))
        .collect()
}

/// Runs one script in a tenant of its own, prepared by `setup`; the error names the script and
/// the step.
async fn play<F: Future<Output = ()>>(
    app: &TestApp,
    number: usize,
    script: &Script,
    setup: impl Fn(Owner, usize) -> F,
) -> Result<(), String> {
    let owner = app.sign_up(&format!("owner{number}@example.in")).await;
    setup(owner.clone(), number).await;
    let mut start = json!({});
    if let Some(caller) = &script.caller {
        start["caller"] = json!(caller);
    }
    if script.language != "any" {
        start["language"] = json!(script.language);
    }
    let started =
        app.request(Method::POST, "/api/v1/sandbox/conversations", &owner.token).json(&start).send().await.unwrap();
    let fail = |step: &str, detail: String| Err(format!("{}\n  at {step}: {detail}", script.title));
    if started.status() != 201 {
        return fail("start", started.text().await.unwrap());
    }
    let mut last: Value = started.json().await.unwrap();
    let call = last["call_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/sandbox/conversations/{call}/messages");
    let actions = || async {
        let page = app.get_json(&format!("/api/v1/actions?call_id={call}"), &owner.token).await;
        page["items"].as_array().unwrap().clone()
    };
    for step in &script.steps {
        let label = format!("{step:?}");
        match step {
            Step::Say(text) | Step::Keys(text) => {
                let body = if matches!(step, Step::Say(_)) { json!({"text": text}) } else { json!({"digits": text}) };
                let response = app.request(Method::POST, &path, &owner.token).json(&body).send().await.unwrap();
                if response.status() != 200 {
                    return fail(&label, format!("{} {}", response.status(), response.text().await.unwrap()));
                }
                last = response.json().await.unwrap();
            }
            Step::Reply(expected) => {
                let said = last["replies"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(" ");
                if !said.contains(expected.as_str()) {
                    return fail(&label, format!("the agent said: {said}"));
                }
            }
            Step::Intent(intent) => {
                if last["understanding"]["intent"] != intent.as_str() {
                    return fail(&label, format!("understood: {}", last["understanding"]));
                }
            }
            Step::NoAction => {
                let actions = actions().await;
                if !actions.is_empty() {
                    return fail(&label, format!("{actions:?}"));
                }
            }
            Step::Action { kind, status } => {
                let actions = actions().await;
                let matching = actions.iter().filter(|a| a["kind"] == kind.as_str()).collect::<Vec<_>>();
                if matching.len() != 1 || matching[0]["status"] != status.as_str() {
                    return fail(&label, format!("{actions:?}"));
                }
            }
            Step::Approve => {
                let actions = actions().await;
                let Some(waiting) = actions.iter().find(|a| a["status"] == "awaiting_approval") else {
                    return fail(&label, format!("nothing awaits approval: {actions:?}"));
                };
                let approve = format!("/api/v1/actions/{}/approve", waiting["id"].as_str().unwrap());
                let response = app.request(Method::POST, &approve, &owner.token).send().await.unwrap();
                if response.status() != 200 {
                    return fail(&label, response.text().await.unwrap());
                }
            }
            Step::Order { number, status } => {
                let state = &app.server().state;
                let commerce = caly::commerce::connector(state, &owner.tenant_id).await.unwrap();
                let order = commerce.find_order(number).await.unwrap().unwrap();
                if order.status.as_str() != status {
                    return fail(&label, format!("order {number} is {}", order.status));
                }
            }
            Step::Ended(outcome) => {
                let call = app.get_json(&format!("/api/v1/calls/{call}"), &owner.token).await;
                if call["outcome"] != outcome.as_str() || last["ended"] != true {
                    return fail(&label, format!("call: {} {}", call["status"], call["outcome"]));
                }
            }
        }
    }
    Ok(())
}

/// Plays every script, six at a time, and fails listing each script that did not go as written.
pub async fn play_all<F: Future<Output = ()>>(
    app: &TestApp,
    scripts: &[Script],
    setup: impl Fn(Owner, usize) -> F + Copy,
) {
    let failures: Vec<String> = futures::stream::iter(scripts.iter().enumerate())
        .map(|(number, script)| play(app, number, script, setup))
        .buffer_unordered(6)
        .filter_map(|result| async move { result.err() })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} of {} conversations failed:\n{}",
        failures.len(),
        scripts.len(),
        failures.join("\n")
    );
}
