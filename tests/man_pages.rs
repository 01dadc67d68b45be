//! The man pages cannot drift from the program: every subcommand, option
//! and environment variable of the command line must be in herald(8), and
//! every key of the configuration file in herald.toml(5), under its table.
//!
//! The command line comes from the clap definitions themselves. The keys
//! come from two places: `examples/herald.toml`, which documents every key
//! for operators (tests/config.rs checks that its commented keys are
//! valid), and the serde mirror in `src/config/raw.rs`, which is what the
//! parser accepts, so a key added to either is caught here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use herald::cli::Cli;
use herald::config::Config;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A page with roff's escaped minus (`\-`) read as a plain `-`, so that
/// `\-\-config` is found as `--config`.
fn page(relative: &str) -> String {
    read(relative).replace("\\-", "-")
}

/// Whether `word` occurs in `text` with no letter, digit or `-` on either
/// side (so `port` is not found inside `ports` nor `hold-time` in
/// `hold-time-max`).
fn has_word(text: &str, word: &str) -> bool {
    let is_word_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

#[test]
fn every_subcommand_has_its_own_section_in_herald_8() {
    let page = page("man/herald.8");
    let command = Cli::command();
    let mut missing = Vec::new();
    for sub in command.get_subcommands() {
        let heading = format!(".SS \"herald {}", sub.get_name());
        if !page.lines().any(|line| line.starts_with(&heading)) {
            missing.push(sub.get_name().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "man/herald.8 has no `.SS \"herald NAME ...\"` section for: {missing:?}"
    );
    assert!(command.get_subcommands().count() >= 9, "subcommands found");
}

#[test]
fn every_option_and_environment_variable_is_in_herald_8() {
    let page = page("man/herald.8");
    let mut command = Cli::command();
    // Building adds the generated --help and --version.
    command.build();
    let mut missing = BTreeSet::new();
    let mut seen = 0;
    let commands = std::iter::once(&command).chain(command.get_subcommands());
    for cmd in commands {
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                seen += 1;
                if !has_word(&page, &format!("--{long}")) {
                    missing.insert(format!("{} --{long}", cmd.get_name()));
                }
            }
            if let Some(short) = arg.get_short() {
                if !has_word(&page, &format!("-{short}")) {
                    missing.insert(format!("{} -{short}", cmd.get_name()));
                }
            }
            if let Some(env) = arg.get_env() {
                let env = env.to_string_lossy();
                if !has_word(&page, &env) {
                    missing.insert(format!("{} ${env}", cmd.get_name()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "missing from man/herald.8: {missing:?}");
    assert!(seen >= 10, "long options found: {seen}");
}

#[test]
fn the_exit_status_table_of_herald_8_matches_main_rs() {
    let page = page("man/herald.8");
    let main = read("src/main.rs");
    // `//! | 3    | the configuration file is unreadable or invalid |`
    let rows: Vec<(String, String)> = main
        .lines()
        .filter_map(|line| line.strip_prefix("//! |"))
        .filter_map(|row| {
            let mut cells = row.split('|').map(str::trim);
            let code = cells.next()?;
            let meaning = cells.next()?;
            code.parse::<u8>()
                .ok()
                .map(|_| (code.to_string(), meaning.to_string()))
        })
        .collect();
    assert_eq!(rows.len(), 6, "exit codes 0 to 5 in src/main.rs: {rows:?}");
    for (code, meaning) in rows {
        let line = format!("{code}|{meaning}");
        assert!(
            page.lines().any(|l| l == line),
            "man/herald.8 lacks the EXIT STATUS row `{line}`"
        );
    }
}

/// A configuration key and the table it belongs to, such as
/// `("vip.damping", "half-life")`.
type Key = (String, String);

/// The keys of `examples/herald.toml`: `key = ...` and `#key = ...` lines,
/// under the last `[table]`, `[[table]]`, `#[table]` or `#[[table]]` seen.
/// Prose in comments has a space after `#` and is skipped.
fn example_keys() -> BTreeSet<Key> {
    let text = read("examples/herald.toml");
    let mut table = String::new();
    let mut keys = BTreeSet::new();
    for line in text.lines() {
        let line = line.strip_prefix('#').unwrap_or(line);
        if line.starts_with('[') {
            table = line.trim_matches(|c| c == '[' || c == ']').to_string();
        } else if let Some((key, _)) = line.split_once(" = ") {
            let is_key = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if is_key {
                keys.insert((table.clone(), key.to_string()));
            }
        }
    }
    keys
}

/// The keys the parser accepts: the fields of the serde mirror in
/// `src/config/raw.rs`, whose structs are kebab-cased.
fn parser_keys() -> BTreeSet<Key> {
    let text = read("src/config/raw.rs");
    let tables = [
        ("RawGlobal", "global"),
        ("RawPeer", "peer"),
        ("RawVip", "vip"),
        ("RawDamping", "vip.damping"),
        ("RawCheck", "check"),
        ("RawControl", "control"),
        ("RawMetrics", "metrics"),
    ];
    let mut keys = BTreeSet::new();
    for (name, table) in tables {
        let start = format!("pub(crate) struct {name} {{");
        let body = text
            .split_once(&start)
            .and_then(|(_, rest)| rest.split_once("\n}"))
            .map(|(body, _)| body)
            .unwrap_or_else(|| panic!("src/config/raw.rs has no `{start}`"));
        let before = keys.len();
        for line in body.lines() {
            if let Some((field, _)) = line
                .trim()
                .strip_prefix("pub(crate) ")
                .and_then(|f| f.split_once(':'))
            {
                let key = field.replace('_', "-");
                // A nested table is a table, not a key.
                if key != "damping" {
                    keys.insert((table.to_string(), key));
                }
            }
        }
        assert!(keys.len() > before, "no fields found in {name}");
    }
    keys
}

/// The text of herald.toml(5) that documents `table`: from its `.SH` or
/// `.SS` heading to the next heading of another table or the next `.SH`.
fn table_section<'a>(page: &'a str, table: &str) -> Option<&'a str> {
    let headings = [format!("[{table}]"), format!("[[{table}]]")];
    let is_heading = |line: &str| line.starts_with(".SH ") || line.starts_with(".SS ");
    let mut offset = 0;
    let mut start = None;
    for line in page.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if is_heading(trimmed) {
            let title = trimmed[4..].trim().trim_matches('"');
            if start.is_some() && (trimmed.starts_with(".SH ") || title.starts_with('[')) {
                return start.map(|s| &page[s..offset]);
            }
            if headings.iter().any(|h| title == h) {
                start = Some(offset);
            }
        }
        offset += line.len();
    }
    start.map(|s| &page[s..])
}

fn assert_documented(keys: &BTreeSet<Key>, origin: &str) {
    let page = page("man/herald.toml.5");
    let mut missing = Vec::new();
    for (table, key) in keys {
        let Some(section) = table_section(&page, table) else {
            missing.push(format!("[{table}] (the whole table)"));
            continue;
        };
        // A key is documented by a `.TP` tag line naming it in bold.
        let tagged = section
            .lines()
            .filter(|line| line.starts_with(".B ") || line.starts_with(".BR "))
            .any(|line| has_word(line, key));
        if !tagged {
            missing.push(format!("{table}.{key}"));
        }
    }
    assert!(
        missing.is_empty(),
        "keys of {origin} missing from man/herald.toml.5: {missing:?}"
    );
}

#[test]
fn every_key_of_the_example_file_is_in_herald_toml_5() {
    let keys = example_keys();
    assert!(keys.len() >= 50, "keys found in the example: {keys:?}");
    assert_documented(&keys, "examples/herald.toml");
}

#[test]
fn every_key_the_parser_accepts_is_in_herald_toml_5() {
    assert_documented(&parser_keys(), "src/config/raw.rs");
}

#[test]
fn the_example_in_herald_toml_5_is_a_valid_configuration() {
    let page = read("man/herald.toml.5");
    let example = page
        .split_once(".SH EXAMPLE\n")
        .and_then(|(_, rest)| rest.split_once(".EX\n"))
        .and_then(|(_, rest)| rest.split_once(".EE\n"))
        .map(|(example, _)| example.replace("\\-", "-").replace("\\(dq", "\""))
        .expect("man/herald.toml.5 has an EXAMPLE with .EX/.EE");
    if let Err(e) = Config::parse(&example, Path::new("herald.toml.5")) {
        panic!("the EXAMPLE of man/herald.toml.5 is invalid: {e}");
    }
}
