//! The configuration file (`--config`, TOML): the blocks of the flags as
//! tables (`[server]`, `[auth]`, `[cache]`, `[limits]`, `[retry]`, `[query]`,
//! `[target]`, `[aws]`, `[unload]`, `[emulator]`), each key a flag's long name; flags and
//! `RSFS_*` variables override it. `--print-config` prints the effective
//! configuration in the same form, secrets redacted.
//!
//! The file is read into the arguments clap parses (a setting becomes
//! `--flag=value` unless the command line or the environment set it), so a
//! file value is checked by the same parser, with the same message, as a flag.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};

/// Arguments of every command that are not settings.
const NOT_SETTINGS: [&str; 4] = ["help", "version", "config", "print_config"];

/// Arguments whose values `--print-config` does not show.
const SECRETS: [&str; 2] = ["signing_key", "postgres_url"];

/// The flags of `--config` and `--print-config`, on every command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigFileArgs {
    /// A TOML file of settings: tables named as the blocks of `--help`
    /// (`[server]`, `[limits]`, …) with flag names as keys. Flags and
    /// environment variables override it.
    #[arg(long, env = "RSFS_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Print the effective configuration as TOML (secrets redacted) and exit.
    #[arg(long, global = true)]
    pub print_config: bool,
}

/// The argument of `command` a key names (its long name or an alias, `_`
/// written as `-`).
fn find_arg<'a>(command: &'a Command, key: &str) -> Option<&'a Arg> {
    let key = key.replace('_', "-");
    command.get_arguments().find(|a| {
        a.get_long() == Some(key.as_str())
            || a.get_all_aliases()
                .is_some_and(|all| all.contains(&key.as_str()))
    })
}

/// The table an argument belongs in: its `--help` heading, lowercased.
fn block_of(arg: &Arg) -> Option<String> {
    arg.get_help_heading().map(str::to_ascii_lowercase)
}

/// One TOML value as the text of a flag.
fn flag_values(value: &toml::Value) -> Option<Vec<String>> {
    match value {
        toml::Value::String(s) => Some(vec![s.clone()]),
        toml::Value::Integer(n) => Some(vec![n.to_string()]),
        toml::Value::Float(f) => Some(vec![f.to_string()]),
        toml::Value::Boolean(b) => Some(vec![b.to_string()]),
        toml::Value::Array(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(flag_values(item)?);
            }
            Some(all)
        }
        toml::Value::Datetime(d) => Some(vec![d.to_string()]),
        toml::Value::Table(_) => None,
    }
}

/// `args` with the settings of the `--config` file (or `RSFS_CONFIG`)
/// inserted after the subcommand, for every argument that neither the
/// command line nor the environment sets. `args` as they are without a file.
pub fn with_config_file(command: &Command, args: Vec<OsString>) -> anyhow::Result<Vec<OsString>> {
    let mut command = command.clone().ignore_errors(true);
    command.build();
    let Ok(first) = command.clone().try_get_matches_from(&args) else {
        return Ok(args);
    };
    let Some((name, matches)) = first.subcommand() else {
        return Ok(args);
    };
    let Some(path) = matches.get_one::<PathBuf>("config").cloned() else {
        return Ok(args);
    };
    let Some(sub) = command.find_subcommand(name) else {
        return Ok(args);
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the configuration file {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    let settings = settings_of(sub, &table)
        .with_context(|| format!("in the configuration file {}", path.display()))?;
    let mut inserted = Vec::new();
    for (arg, values) in settings {
        let id = arg.get_id().as_str();
        if matches!(
            matches.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        let long = arg.get_long().unwrap_or(id);
        if matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse) {
            if values.iter().any(|v| v == "true") {
                inserted.push(OsString::from(format!("--{long}")));
            }
            continue;
        }
        for value in values {
            inserted.push(OsString::from(format!("--{long}={value}")));
        }
    }
    let at = args
        .iter()
        .skip(1)
        .position(|a| a == name)
        .map_or(args.len(), |i| i + 2);
    let mut out = args;
    out.splice(at..at, inserted);
    Ok(out)
}

/// Each setting of `table` with the argument of `command` it sets.
fn settings_of<'a>(
    command: &'a Command,
    table: &toml::Table,
) -> anyhow::Result<Vec<(&'a Arg, Vec<String>)>> {
    let mut settings = Vec::new();
    let mut entries: Vec<(Option<&str>, &str, &toml::Value)> = Vec::new();
    for (key, value) in table {
        match value {
            toml::Value::Table(inner) => {
                for (k, v) in inner {
                    entries.push((Some(key.as_str()), k.as_str(), v));
                }
            }
            other => entries.push((None, key.as_str(), other)),
        }
    }
    for (block, key, value) in entries {
        let shown = block.map_or_else(|| key.to_owned(), |b| format!("[{b}] {key}"));
        let Some(arg) = find_arg(command, key) else {
            bail!("`{shown}` is not a setting of `{}`", command.get_name());
        };
        if NOT_SETTINGS.contains(&arg.get_id().as_str()) {
            bail!("`{shown}` cannot be set in a configuration file");
        }
        let expected = block_of(arg);
        if block.map(str::to_ascii_lowercase) != expected {
            match expected {
                Some(b) => bail!("`{key}` belongs in the [{b}] table"),
                None => bail!("`{key}` belongs at the top of the file, before any table"),
            }
        }
        let Some(values) = flag_values(value) else {
            bail!("`{shown}` must be a value or a list of values");
        };
        settings.push((arg, values));
    }
    Ok(settings)
}

/// A TOML string literal.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The effective configuration of the subcommand in `matches`, as a
/// configuration file: every setting with a value, by table, secrets redacted.
pub fn print_config(command: &Command, matches: &ArgMatches) -> String {
    let mut command = command.clone();
    command.build();
    let Some((name, sub_matches)) = matches.subcommand() else {
        return String::new();
    };
    let Some(sub) = command.find_subcommand(name) else {
        return String::new();
    };
    let mut blocks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for arg in sub.get_arguments() {
        let id = arg.get_id().as_str();
        if NOT_SETTINGS.contains(&id) {
            continue;
        }
        let key = arg.get_long().unwrap_or(id);
        let value = if matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse) {
            match sub_matches.try_get_one::<bool>(id) {
                Ok(Some(b)) => b.to_string(),
                _ => continue,
            }
        } else {
            let Ok(Some(raw)) = sub_matches.try_get_raw(id) else {
                continue;
            };
            let values: Vec<String> = raw
                .map(|v| {
                    if SECRETS.contains(&id) {
                        quoted("<redacted>")
                    } else {
                        quoted(&v.to_string_lossy())
                    }
                })
                .collect();
            if matches!(arg.get_action(), ArgAction::Append) || values.len() > 1 {
                format!("[{}]", values.join(", "))
            } else {
                values.join("")
            }
        };
        blocks
            .entry(block_of(arg).unwrap_or_default())
            .or_default()
            .push(format!("{key} = {value}"));
    }
    let mut out = format!(
        "# The effective configuration of `{name}`: flags, then RSFS_* variables, then --config, then defaults.\n"
    );
    if let Some(top) = blocks.remove("") {
        for line in top {
            let _ = writeln!(out, "{line}");
        }
    }
    for (block, lines) in blocks {
        let _ = writeln!(out, "\n[{block}]");
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser};

    use super::*;
    use crate::config::ServeArgs;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        file: ConfigFileArgs,
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Sub {
        Serve(ServeArgs),
    }

    fn write(text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "rsfs-config-{}-{}.toml",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::write(&path, text).expect("write the file");
        path
    }

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn parse(list: &[&str]) -> anyhow::Result<ServeArgs> {
        let with = with_config_file(&Cli::command(), args(list))?;
        let Sub::Serve(serve) = Cli::try_parse_from(with)?.command;
        Ok(serve)
    }

    #[test]
    fn a_file_sets_every_block_and_flags_override_it() {
        let path = write(
            "listen = \"127.0.0.1:0\"\n[target]\nworkgroup-name = \"wg\"\ndatabase = \"analytics\"\n\
             [limits]\npages_in_flight = 4\n[query]\nresult-format = \"json\"\n[cache]\ncache-ttl = \"2m\"\n",
        );
        let p = path.to_string_lossy().into_owned();
        let serve = parse(&["rsfs", "serve", "--config", &p, "--database", "dev"]).expect("parsed");
        let g = &serve.gateway;
        assert_eq!(serve.listen.port(), 0);
        assert_eq!(g.target.workgroup_name.as_deref(), Some("wg"));
        assert_eq!(g.target.database, "dev", "the flag overrides the file");
        assert_eq!(g.service.limits.pages_in_flight.get(), 4);
        assert_eq!(
            g.service.query.result_format,
            crate::config::ResultFormatSetting::Json
        );
        assert_eq!(g.service.cache.cache_ttl.get().as_secs(), 120);
    }

    #[test]
    fn mistakes_in_the_file_are_named() {
        for (text, said) in [
            (
                "[limits]\nno-such-flag = 1\n",
                "`[limits] no-such-flag` is not a setting of `serve`",
            ),
            (
                "[server]\npages-in-flight = 1\n",
                "`pages-in-flight` belongs in the [limits] table",
            ),
            (
                "pages-in-flight = 1\n",
                "`pages-in-flight` belongs in the [limits] table",
            ),
            (
                "[target]\nworkgroup-name = { a = 1 }\n",
                "must be a value or a list of values",
            ),
            ("[target\n", "is not valid TOML"),
        ] {
            let p = write(text).to_string_lossy().into_owned();
            let e = parse(&["rsfs", "serve", "--config", &p]).expect_err("refused");
            assert!(format!("{e:#}").contains(said), "{e:#} lacks {said}");
        }
        // A value is checked as the flag's would be.
        let p = write("[target]\nworkgroup-name = \"wg\"\n[limits]\npages-in-flight = 0\n")
            .to_string_lossy()
            .into_owned();
        assert!(parse(&["rsfs", "serve", "--config", &p]).is_err());
    }

    #[test]
    fn the_printed_configuration_reads_back_the_same_and_hides_secrets() {
        let list = [
            "rsfs",
            "serve",
            "--workgroup-name",
            "wg",
            "--signing-key",
            "very-secret",
            "--pages-in-flight",
            "3",
        ];
        let matches = Cli::command().get_matches_from(list);
        let printed = print_config(&Cli::command(), &matches);
        assert!(printed.contains("[limits]\n"), "{printed}");
        assert!(printed.contains("pages-in-flight = \"3\""), "{printed}");
        assert!(
            printed.contains("signing-key = \"<redacted>\""),
            "{printed}"
        );
        assert!(!printed.contains("very-secret"));
        let p = write(&printed).to_string_lossy().into_owned();
        let again = parse(&["rsfs", "serve", "--config", &p]).expect("reads back");
        let direct = parse(&list).expect("direct");
        assert_eq!(again.gateway.target, direct.gateway.target);
        assert_eq!(again.gateway.service.limits, direct.gateway.service.limits);
        assert_eq!(again.gateway.service.query, direct.gateway.service.query);
    }
}
