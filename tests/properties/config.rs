//! `config::parse` on arbitrary text, on structured configs (every known key, with values of
//! its type at and past each check's edge) and on edits of valid configs: it never panics,
//! every error it reports is placed at `path:line:column` (CONTRACT §2: `check-config` prints
//! every error with line:column), and no error shows a secret's value (an inline
//! `api_key = "…"`, a secret typed as a bare number, a proxy's password), wherever an edit
//! leaves it as a secret's value.

use crate::fixed;
use assetd::config::{ConfigErrors, parse};
use proptest::prelude::*;
use std::path::Path;

const PATH: &str = "/etc/assetd/prop.toml";

/// The secrets of the valid configs below: unique markers searched for in every message.
const CANARY: &str = "sk-prop-CANARY-5c1e";
const NUMBER_CANARY: &str = "84736251908172635";
const PROXY_CANARY: &str = "pw-prop-CANARY";

/// Keys whose value is, or may hold, a secret: the canaries may sit only there.
const SECRET_KEYS: &[&str] = &[
    "api_key",
    "secret_access_key",
    "auth_tokens",
    "tls_key",
    "proxy",
    "base_url",
];

/// Valid configs of every kind, each with its secrets inline.
fn valid_configs() -> Vec<String> {
    vec![
        format!(
            "[agent]\ndatabase = \"/tmp/assetd-prop/a.db\"\nsync_interval = \"30m\"\nmax_removals = \"10%\"\n\n\
             [[source]]\nname = \"auvik\"\nkind = \"auvik\"\nregion = \"eu1\"\nusername = \"svc@msp.example\"\n\
             api_key = \"{CANARY}\"\ndomain_prefix = \"mspdemo\"\nproxy = \"http://ops:{PROXY_CANARY}@proxy.msp.example:3128\"\n\n\
             [[client]]\nname = \"Contoso Ltd\"\nmembers = [\"auvik:contoso\"]\n"
        ),
        format!(
            "[[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"acme\"\napi_key = \"{NUMBER_CANARY}\"\n\
             requests_per_minute = 120\ninterval = \"1h\"\n"
        ),
        format!(
            "[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\nauth_tokens = [\"{CANARY}-token-0123456789\"]\n\n\
             [[source]]\nname = \"passportal\"\nkind = \"passportal\"\ndatacenter = \"uk\"\n\
             access_key_id = \"{}\"\nsecret_access_key = \"{CANARY}\"\nmax_retries = 3\n",
            "a1".repeat(32)
        ),
    ]
}

/// The checks every answer of `parse` must pass. `text` is what was parsed.
fn check(text: &str, private: bool) -> Result<(), TestCaseError> {
    let Err(ConfigErrors(errors)) = parse(Path::new(PATH), text, private) else {
        return Ok(());
    };
    prop_assert!(!errors.is_empty(), "an Err carries at least one error");
    let secrets_in_place = canaries_only_in_secrets(text);
    for e in &errors {
        let shown = e.to_string();
        prop_assert!(
            e.line >= 1 && e.column >= 1,
            "an error without a place (line {}, column {}): {shown}",
            e.line,
            e.column
        );
        prop_assert!(
            shown.starts_with(&format!("{PATH}:{}:{}: ", e.line, e.column)),
            "not `path:line:column: message`: {shown}"
        );
        prop_assert!(!e.message.trim().is_empty(), "an empty message: {shown}");
        if secrets_in_place {
            for canary in [
                CANARY,
                NUMBER_CANARY,
                PROXY_CANARY,
                "8473625190",
                "1908172635",
            ] {
                prop_assert!(!shown.contains(canary), "a secret shown: {shown}");
            }
        }
    }
    Ok(())
}

/// Whether every canary in `text` is (part of) the value of a secret key, so an error must
/// not show it. A mutation can also turn a secret into something else (a key name, part of a
/// string that swallowed the lines after it), which is then no secret of the file's; for
/// text that is not TOML at all, the canary is still where the secret was written, so its
/// syntax error must not show it.
fn canaries_only_in_secrets(text: &str) -> bool {
    fn walk(key: Option<&str>, v: &toml::Value) -> bool {
        if key.is_some_and(|k| SECRET_KEYS.contains(&k)) {
            return true;
        }
        let has = |s: &str| {
            [CANARY, NUMBER_CANARY, PROXY_CANARY]
                .iter()
                .any(|c| s.contains(c))
        };
        match v {
            toml::Value::String(s) => !has(s),
            toml::Value::Integer(n) => !has(&n.to_string()),
            toml::Value::Float(f) => !has(&f.to_string()),
            toml::Value::Array(a) => a.iter().all(|x| walk(None, x)),
            toml::Value::Table(t) => t.iter().all(|(k, x)| !has(k) && walk(Some(k), x)),
            _ => true,
        }
    }
    match text.parse::<toml::Table>() {
        Ok(t) => t
            .iter()
            .all(|(k, v)| !k.contains(CANARY) && walk(Some(k), v)),
        Err(_) => true,
    }
}

/// One edit of a config's text.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
    Replace(usize, String),
    DuplicateLine(usize),
    DeleteLine(usize),
    SwapLines(usize, usize),
}

/// Text a TOML parser cares about, and some it should not.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "\"",
            "'",
            "=",
            "[",
            "]",
            "[[",
            "]]",
            "{",
            "}",
            ",",
            ".",
            "#",
            "\n",
            "\r\n",
            " ",
            "\t",
            "\\",
            "\"\"\"",
            "'''",
            "\\u",
            "\\U0010FFFF",
            "\u{0}",
            "\u{7f}",
            "\u{feff}",
            "é",
            "名",
            "😀",
            "\u{200b}",
            "-",
            "+",
            "0x",
            "1e999",
            "9999999999999999999999",
            "-9223372036854775809",
            "nan",
            "inf",
            "true",
            "1979-05-27T07:32:00Z",
            "30m",
            "300000years",
            "0s",
            "%",
            "unix://",
            "tcp://0.0.0.0:1",
            "[agent]",
            "[[source]]",
            "[[client]]",
            "name",
            "kind",
            "api_key",
            "{ file = \"/nonexistent\" }",
            "{ env = \"ASSETD_PROP_UNSET\" }",
            "{ credential = \"x\" }",
            "listen",
            "interval",
        ])
        .prop_map(str::to_string),
        "\\PC{0,12}",
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = any::<usize>();
    prop_oneof![
        3 => (at, fragment()).prop_map(|(i, s)| Edit::Insert(i, s)),
        2 => (at, 1usize..8).prop_map(|(i, n)| Edit::Delete(i, n)),
        2 => (at, fragment()).prop_map(|(i, s)| Edit::Replace(i, s)),
        1 => at.prop_map(Edit::DuplicateLine),
        1 => at.prop_map(Edit::DeleteLine),
        1 => (at, at).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

/// The char boundary nearest below `i % (len + 1)`.
fn boundary(s: &str, i: usize) -> usize {
    let mut i = i % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, e: &Edit) -> String {
    let mut s = text.to_string();
    match e {
        Edit::Insert(i, f) => s.insert_str(boundary(&s, *i), f),
        Edit::Delete(i, n) => {
            let a = boundary(&s, *i);
            let b = boundary(&s, a.saturating_add(*n).min(s.len()));
            s.replace_range(a..b.max(a), "");
        }
        Edit::Replace(i, f) => {
            let a = boundary(&s, *i);
            let b = s[a..].chars().next().map_or(a, |c| a + c.len_utf8());
            s.replace_range(a..b, f);
        }
        Edit::DuplicateLine(i) | Edit::DeleteLine(i) => {
            let mut lines: Vec<&str> = s.split('\n').collect();
            let n = i % lines.len();
            if matches!(e, Edit::DuplicateLine(_)) {
                lines.insert(n, lines[n]);
            } else {
                lines.remove(n);
            }
            s = lines.join("\n");
        }
        Edit::SwapLines(a, b) => {
            let mut lines: Vec<&str> = s.split('\n').collect();
            let n = lines.len();
            lines.swap(a % n, b % n);
            s = lines.join("\n");
        }
    }
    s
}

/// TOML-looking text made of the fragments above and of lines from the valid configs.
fn toml_soup() -> impl Strategy<Value = String> {
    let lines: Vec<String> = valid_configs()
        .iter()
        .flat_map(|c| c.lines().map(str::to_string).collect::<Vec<_>>())
        .collect();
    prop::collection::vec(
        prop_oneof![
            fragment(),
            prop::sample::select(lines).prop_map(|l| l + "\n")
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

/// What a key takes, so that most generated values get past serde (whose first type error
/// ends the parse) to the checks behind it.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Int,
    Bool,
    TextList,
    Secret,
    SecretList,
    Removals,
}

/// Every key the file format knows, in the tables that hold them, with what each takes.
const AGENT_KEYS: &[(&str, Kind)] = &[
    ("database", Kind::Text),
    ("listen", Kind::TextList),
    ("sync_interval", Kind::Text),
    ("full_sync_interval", Kind::Text),
    ("removed_grace", Kind::Text),
    ("request_timeout", Kind::Text),
    ("run_timeout", Kind::Text),
    ("max_retries", Kind::Int),
    ("max_throttle_wait", Kind::Text),
    ("max_removals", Kind::Removals),
    ("tls_cert", Kind::Text),
    ("tls_key", Kind::Secret),
    ("tls_client_ca", Kind::Text),
    ("auth_tokens", Kind::SecretList),
    ("metrics_listen", Kind::Text),
];
const SOURCE_KEYS: &[(&str, Kind)] = &[
    ("interval", Kind::Text),
    ("full_interval", Kind::Text),
    ("base_url", Kind::Text),
    ("request_timeout", Kind::Text),
    ("run_timeout", Kind::Text),
    ("max_retries", Kind::Int),
    ("max_throttle_wait", Kind::Text),
    ("max_removals", Kind::Removals),
    ("proxy", Kind::Text),
    ("region", Kind::Text),
    ("username", Kind::Text),
    ("api_key", Kind::Secret),
    ("domain_prefix", Kind::Text),
    ("subdomain", Kind::Text),
    ("requests_per_minute", Kind::Int),
    ("include_disabled_customers", Kind::Bool),
    ("warranty_property", Kind::Text),
    ("purchase_property", Kind::Text),
    ("datacenter", Kind::Text),
    ("access_key_id", Kind::Text),
    ("secret_access_key", Kind::Secret),
];
const CLIENT_KEYS: &[(&str, Kind)] = &[
    ("name", Kind::Text),
    ("exclude", Kind::Bool),
    ("members", Kind::TextList),
];

fn pick(v: &[&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(v.to_vec())
        .prop_map(str::to_string)
        .boxed()
}

/// Text at and past each check's edges, and any text, mostly not ASCII: where a check
/// slices or counts, characters of two to four bytes are what break byte arithmetic.
fn text_value() -> BoxedStrategy<String> {
    prop_oneof![
        3 => pick(&[
            "", " ", "x", "auvik", "syncro", "passportal", "us1", "eu1", "uk", "acme",
            "acme.syncromsp.com", "https://acme.syncromsp.com/", "30m", "0s", "1ns", "1s",
            "300000years", "10years 1s", "-1s", "10%", "off", "none", "http://127.0.0.1:1",
            "http://[::1]:1/x", "https://h.example", "http://h.example", "ftp://h",
            "http://u:p@h:1", "http://h:1/path", "unix:///tmp/assetd-prop.sock", "unix://",
            "tcp://127.0.0.1:0", "tcp://0.0.0.0:7443", "tcp://[::1]:99999", "tcp://localhost:1",
            "localhost:0", "127.0.0.1:99999", "[::1]:9", "auvik:contoso", ":", "auvik:",
            "/nonexistent/assetd-prop", "名前", "a\u{0}b", "é", "30é", "😀m",
        ]),
        3 => "\\PC{0,20}",
        1 => "[a-z0-9:/.%-]{0,24}",
    ]
    .prop_map(|t| toml::Value::String(t).to_string())
    .boxed()
}

fn secret_value() -> BoxedStrategy<String> {
    prop_oneof![
        2 => text_value(),
        2 => pick(&[
            "{ file = \"/nonexistent/assetd-prop\" }", "{ env = \"ASSETD_PROP_UNSET\" }",
            "{ env = \"\" }", "{ credential = \"x\" }", "{ credential = \"a/b\" }",
            "{ credential = \"\" }", "{ file = 1 }", "{ file = \"a\", env = \"b\" }",
            "{ bogus = \"x\" }", "{}", "84736251908172635", "true", "[\"x\"]",
        ]),
    ]
    .boxed()
}

/// A value of `kind`, or now and then any value at all.
fn value(kind: Kind) -> BoxedStrategy<String> {
    let typed = match kind {
        Kind::Text => text_value(),
        Kind::Int => prop_oneof![
            pick(&[
                "0",
                "-1",
                "1",
                "20",
                "21",
                "9223372036854775807",
                "-9223372036854775808"
            ]),
            any::<i64>().prop_map(|n| n.to_string()),
        ]
        .boxed(),
        Kind::Bool => pick(&["true", "false"]),
        Kind::TextList => prop::collection::vec(text_value(), 0..4)
            .prop_map(|v| format!("[{}]", v.join(", ")))
            .boxed(),
        Kind::Secret => secret_value(),
        Kind::SecretList => prop::collection::vec(secret_value(), 0..4)
            .prop_map(|v| format!("[{}]", v.join(", ")))
            .boxed(),
        Kind::Removals => prop_oneof![
            pick(&[
                "0", "25", "-1", "\"0%\"", "\"10%\"", "\"100%\"", "\"101%\"", "\"-5%\"",
                "\"nan%\"", "\"1e3%\"", "\"off\"", "\"%\"", "1.5", "true"
            ]),
            text_value(),
        ]
        .boxed(),
    };
    prop_oneof![
        8 => typed,
        1 => pick(&["1", "1.5", "nan", "true", "[]", "[[]]", "{}", "1979-05-27T07:32:00Z"]),
        1 => text_value(),
    ]
    .boxed()
}

/// `[header]` with some of `keys`, each once, with values of their kind; `first` lines come
/// first (a source's name and kind, so most sources get past them).
fn table(
    header: &'static str,
    keys: &'static [(&'static str, Kind)],
    first: String,
) -> BoxedStrategy<String> {
    prop::sample::subsequence(keys.to_vec(), 0..=keys.len().min(6))
        .prop_flat_map(|chosen| {
            chosen
                .into_iter()
                .map(|(k, kind)| value(kind).prop_map(move |v| format!("{k} = {v}")))
                .collect::<Vec<_>>()
        })
        .prop_map(move |lines| format!("{header}\n{first}{}\n", lines.join("\n")))
        .boxed()
}

/// A config file of known tables and keys with awkward values: what reaches the checks
/// past the TOML syntax and serde's types.
fn structured() -> impl Strategy<Value = String> {
    let source = (
        prop_oneof![4 => pick(&["\"s1\"", "\"s2\"", "\"auvik\""]), 1 => text_value()],
        prop_oneof![4 => pick(&["\"auvik\"", "\"syncro\"", "\"passportal\""]), 1 => text_value()],
    )
        .prop_flat_map(|(name, kind)| {
            table(
                "[[source]]",
                SOURCE_KEYS,
                format!("name = {name}\nkind = {kind}\n"),
            )
        });
    (
        prop::option::of(table("[agent]", AGENT_KEYS, String::new())),
        prop::collection::vec(source, 0..3),
        prop::collection::vec(table("[[client]]", CLIENT_KEYS, String::new()), 0..3),
    )
        .prop_map(|(agent, sources, clients)| {
            let mut text = agent.unwrap_or_default();
            text.extend(sources);
            text.extend(clients);
            text
        })
}

proptest! {
    #![proptest_config(fixed(256))]

    /// Any text at all: an answer, never a panic; every error placed.
    #[test]
    fn arbitrary_text_never_panics_and_every_error_is_placed(
        text in prop_oneof!["\\PC{0,300}", ".{0,300}", toml_soup()],
        private in any::<bool>(),
    ) {
        check(&text, private)?;
    }

    /// Known tables and keys with values of every type, at and past every check's edge.
    #[test]
    fn structured_configs_never_panic_and_every_error_is_placed(
        text in structured(),
        private in any::<bool>(),
    ) {
        check(&text, private)?;
    }

    /// A valid config with a few edits: an answer, never a panic; every error placed; no
    /// secret shown while it is still a secret's value.
    #[test]
    fn mutated_configs_never_panic_place_every_error_and_hide_secrets(
        which in 0usize..3,
        edits in prop::collection::vec(edit(), 1..6),
        private in any::<bool>(),
        bare_number in any::<bool>(),
    ) {
        let mut text = valid_configs()[which].clone();
        if bare_number {
            // The Syncro token typed without quotes: a secret all the same.
            text = text.replace(&format!("\"{NUMBER_CANARY}\""), NUMBER_CANARY);
        }
        for e in &edits {
            text = apply(&text, e);
        }
        check(&text, private)?;
    }
}

/// The configs the mutations start from are valid: a property whose every case is an error
/// would prove little about the checks past the first one.
#[test]
fn the_starting_configs_are_valid() {
    for (i, text) in valid_configs().iter().enumerate() {
        // The passportal one has a TCP listener, whose token is inline: private file.
        if let Err(e) = parse(Path::new(PATH), text, true) {
            panic!("config {i} is refused:\n{e}");
        }
    }
}

// --- Regressions the properties found, kept as explicit cases.

/// `listen = []` was reported without a place (`path: message`, line 0), the one error that
/// broke `file:line:column`; it now points at the list.
#[test]
fn regression_an_empty_listen_list_is_placed() {
    let e = parse(Path::new(PATH), "[agent]\nlisten = []\n", true).unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!((e.0[0].line, e.0[0].column), (2, 10), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("{PATH}:2:10: `agent.listen` is empty")),
        "{e}"
    );
}
