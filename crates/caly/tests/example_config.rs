//! `caly.example.toml` documents every key with its default value.

#[test]
fn the_example_file_matches_the_defaults_key_for_key() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../caly.example.toml");
    let example: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let defaults: toml::Value = toml::from_str(&caly::config::Config::default().to_redacted_toml()).unwrap();
    assert_eq!(example, defaults, "caly.example.toml and Config::default() disagree");
}
