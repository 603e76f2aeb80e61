use super::*;

fn parse_ok(text: &str) -> Config {
    parse(Path::new("c.toml"), text, true).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> String {
    parse(Path::new("c.toml"), text, true)
        .unwrap_err()
        .to_string()
}

const AUVIK: &str = r#"
[agent]
database = "/tmp/x.db"
listen = ["unix:///tmp/x.sock"]

[[source]]
name = "auvik"
kind = "auvik"
region = "eu1"
username = "svc@msp.example"
api_key = "k-123"
domain_prefix = "mspdemo"
interval = "30m"
"#;

#[test]
fn run_limits_default_from_the_agent_and_sources_override_them() {
    let c = parse_ok(AUVIK);
    assert_eq!(c.sources[0].limits, RunLimits::default());
    let text = AUVIK.replace(
        "listen = [\"unix:///tmp/x.sock\"]",
        "listen = [\"unix:///tmp/x.sock\"]\nrequest_timeout = \"5s\"\nmax_retries = 2",
    ) + "run_timeout = \"10m\"\nmax_retries = 0\n";
    let s = &parse_ok(&text).sources[0];
    assert_eq!(
        s.limits,
        RunLimits {
            request_timeout: Duration::from_secs(5),
            run_timeout: Duration::from_secs(600),
            max_retries: 0,
            max_throttle_wait: None,
        }
    );
    let e = parse_err(&(AUVIK.to_string() + "max_retries = 99\n"));
    assert!(
        e.contains("c.toml:14:15:") && e.contains("max_retries"),
        "{e}"
    );
    let e = parse_err(&(AUVIK.to_string() + "run_timeout = \"0s\"\n"));
    assert!(e.contains("run_timeout"), "{e}");
}

#[test]
fn auviks_lnx_cluster_is_a_region() {
    let c = parse_ok(&AUVIK.replace("region = \"eu1\"", "region = \"lnx\""));
    assert_eq!(
        c.sources[0].base_url.as_str(),
        "https://auvikapi.lnx.my.auvik.com/"
    );
}

#[test]
fn max_removals_takes_a_count_a_percentage_or_off_and_sources_override_the_agent() {
    let c = parse_ok(AUVIK);
    assert_eq!(c.sources[0].max_removals, RemovalLimit::DEFAULT);
    let with = |agent: &str, source: &str| {
        AUVIK.replace(
            "listen = [\"unix:///tmp/x.sock\"]",
            &format!("listen = [\"unix:///tmp/x.sock\"]\n{agent}"),
        ) + source
    };
    let limit = |agent: &str, source: &str| parse_ok(&with(agent, source)).sources[0].max_removals;
    assert_eq!(
        limit("max_removals = 40", ""),
        RemovalLimit {
            count: Some(40),
            percent: None
        }
    );
    assert_eq!(
        limit("max_removals = \"5%\"", ""),
        RemovalLimit {
            count: None,
            percent: Some(5.0)
        }
    );
    assert_eq!(
        limit("max_removals = \"5%\"", "max_removals = \"off\"\n"),
        RemovalLimit::OFF
    );
    assert_eq!(
        limit("", "max_removals = \"100\"\n"),
        RemovalLimit {
            count: Some(100),
            percent: None
        }
    );
    for bad in ["-1", "\"lots\"", "\"150%\"", "true"] {
        let e = parse_err(&with("", &format!("max_removals = {bad}\n")));
        assert!(e.contains("max_removals"), "{bad}: {e}");
        // A message broken over source lines must not carry their indentation.
        assert!(!e.contains("  "), "{bad}: {e}");
    }
}

/// The default holds more than 25 removals that are also more than 10% of the present
/// assets; `off` never holds; a count or a percentage alone is that bound alone.
#[test]
fn removal_limits_hold_past_every_bound_they_set() {
    let d = RemovalLimit::DEFAULT;
    assert!(!d.exceeded(25, 100), "25 is not more than 25");
    assert!(d.exceeded(26, 100));
    assert!(!d.exceeded(26, 1000), "26 of 1000 is under 10%");
    assert!(d.exceeded(101, 1000));
    assert!(!d.exceeded(100, 1000), "exactly 10% is not more");
    assert!(d.exceeded(430, 430), "an emptied listing");
    assert!(!RemovalLimit::OFF.exceeded(1_000_000, 1_000_000));
    let count = RemovalLimit {
        count: Some(3),
        percent: None,
    };
    assert!(count.exceeded(4, 1_000_000) && !count.exceeded(3, 3));
    let percent = RemovalLimit {
        count: None,
        percent: Some(50.0),
    };
    assert!(percent.exceeded(2, 3) && !percent.exceeded(1, 3));
    assert_eq!(
        d.describe(),
        "more than 25 assets and more than 10% of the source's present assets"
    );
}

#[test]
fn max_throttle_wait_defaults_to_the_vendors_window() {
    let c = parse_ok(AUVIK);
    assert_eq!(c.sources[0].limits.max_throttle_wait, None);
    let c = parse_ok(&(AUVIK.to_string() + "max_throttle_wait = \"20s\"\n"));
    assert_eq!(
        c.sources[0].limits.max_throttle_wait,
        Some(Duration::from_secs(20))
    );
    let e = parse_err(&(AUVIK.to_string() + "max_throttle_wait = \"0s\"\n"));
    assert!(e.contains("max_throttle_wait"), "{e}");
}

#[test]
fn a_valid_auvik_config_loads() {
    let c = parse_ok(AUVIK);
    assert_eq!(c.sources.len(), 1);
    let s = &c.sources[0];
    assert_eq!(s.interval, Duration::from_secs(1800));
    assert_eq!(s.full_interval, Duration::from_secs(86400));
    assert_eq!(s.base_url.as_str(), "https://auvikapi.eu1.my.auvik.com/");
    let VendorConfig::Auvik(a) = &s.vendor else {
        panic!("auvik")
    };
    assert_eq!(a.api_key.expose(), "k-123");
    assert!(
        !format!("{c:?}").contains("k-123"),
        "Debug must mask secrets"
    );
}

#[test]
fn a_secret_of_the_wrong_type_is_refused_without_its_value() {
    // Issue 21 §8: serde would print ``invalid type: integer `84736251908172635` ``.
    for (value, found) in [
        ("84736251908172635", "found a number"),
        ("-84736251908172635", "found a number"),
        ("8473625190.8172635", "found a number"),
        ("[84736251908172635]", "found a list"),
        ("true", "found a boolean"),
        ("{ file = 84736251908172635 }", "`file` takes a string"),
        ("{ env = 84736251908172635 }", "`env` takes a string"),
        (
            "{ credential = [84736251908172635] }",
            "`credential` takes a string",
        ),
    ] {
        let text = AUVIK.replace("api_key = \"k-123\"", &format!("api_key = {value}"));
        let e = parse_err(&text);
        assert!(e.contains(found), "{value}: {e}");
        assert!(e.contains("c.toml:11:"), "{value}: {e}");
        for digits in ["84736251908172635", "8473625190", "8172635"] {
            assert!(!e.contains(digits), "{value} echoed: {e}");
        }
    }
    let tokens =
        "[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\nauth_tokens = [84736251908172635]\n";
    let e = parse_err(tokens);
    assert!(
        e.contains("found a number") && !e.contains("84736251908172635"),
        "{e}"
    );
}

#[test]
fn durations_past_any_clock_are_refused() {
    // Issue 21 §7: these passed the check and then panicked the agent.
    let e = parse_err(&AUVIK.replace("interval = \"30m\"", "interval = \"300000years\""));
    assert!(
            e.contains("c.toml:13:12: `interval` = \"300000years\" is longer than any duration assetd accepts (10 years)"),
            "{e}"
        );
    let e = parse_err("[agent]\nremoved_grace = \"300000years\"\n");
    assert!(
        e.contains("`removed_grace` = \"300000years\" is longer"),
        "{e}"
    );
    // Ten years is still a duration.
    let c = parse_ok("[agent]\nremoved_grace = \"3650d\"\n");
    assert_eq!(c.agent.removed_grace, check::MAX_DURATION);
}

#[test]
fn proxy_is_a_url_or_none_and_never_shown_with_its_password() {
    let with = |v: &str| AUVIK.replace("interval = \"30m\"", &format!("proxy = {v}"));
    assert_eq!(
        parse_ok(AUVIK).sources[0].proxy,
        ProxySetting::FromEnvironment
    );
    assert_eq!(
        parse_ok(&with("\"none\"")).sources[0].proxy,
        ProxySetting::Direct
    );
    let c = parse_ok(&with("\"http://ops:pw-canary@proxy.msp.example:3128\""));
    let ProxySetting::Url(u) = &c.sources[0].proxy else {
        panic!("a proxy URL")
    };
    assert_eq!(u.expose(), "http://ops:pw-canary@proxy.msp.example:3128/");
    assert!(!format!("{c:?}").contains("pw-canary"));
    for (value, why) in [
        ("\"socks5://proxy.example:1080\"", "scheme `socks5`"),
        ("\"proxy.example:3128\"", "scheme `proxy.example`"),
        ("\"http://proxy.example:3128/path\"", "without a path"),
        (
            "\"http://ops:pw-canary@proxy.example:3128/x\"",
            "without a path",
        ),
    ] {
        let e = parse_err(&with(value));
        assert!(
            e.contains("c.toml:13:9: `proxy`: ") && e.contains(why),
            "{value}: {e}"
        );
        assert!(!e.contains("pw-canary"), "{e}");
    }
    // A password in a shared file is refused, as an inline secret is.
    let e = parse(
        Path::new("c.toml"),
        &with("\"http://ops:pw-canary@proxy.msp.example:3128\""),
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`proxy` holds a password"), "{e}");
    assert!(!e.contains("pw-canary"), "{e}");
    // Changing the proxy changes how the source connects: it restarts.
    let (a, b) = (
        &parse_ok(AUVIK).sources[0],
        &parse_ok(&with("\"none\"")).sources[0],
    );
    assert!(!a.connection_eq(b));
}

#[test]
fn base_url_never_carries_credentials() {
    // Issue 21: ListSources returned `user:pass@` verbatim.
    let e = parse_err(
        "[[source]]\nname = \"s\"\nkind = \"syncro\"\nsubdomain = \"acme\"\napi_key = \"t\"\nbase_url = \"https://ops:pw-canary@acme.syncromsp.com/\"\n",
    );
    assert!(
        e.contains("c.toml:6:12: `base_url` must not carry `user:password@`"),
        "{e}"
    );
    assert!(!e.contains("pw-canary"), "{e}");
}

#[test]
fn unknown_key_is_refused_with_line_and_column() {
    let e = parse_err("[agent]\ndatabase = \"x.db\"\nbogus_key = 1\n");
    assert!(e.starts_with("c.toml:3:1: "), "{e}");
    assert!(e.contains("bogus_key"), "{e}");
}

#[test]
fn every_semantic_error_is_reported() {
    let e = parse_err(
        "[[source]]\nname = \"A\"\nkind = \"auvik\"\nregion = \"mars\"\nusername = \"u\"\napi_key = \"k\"\ndomain_prefix = \"p\"\ninterval = \"soon\"\n",
    );
    assert!(e.contains("c.toml:2:8:") && e.contains("a-z, 0-9"), "{e}");
    assert!(
        e.contains("c.toml:4:10:") && e.contains("unknown Auvik region"),
        "{e}"
    );
    assert!(e.contains("c.toml:8:12:") && e.contains("interval"), "{e}");
}

#[test]
fn duplicate_source_names_are_refused() {
    let one = "[[source]]\nname = \"a\"\nkind = \"auvik\"\nusername = \"u\"\napi_key = \"k\"\ndomain_prefix = \"p\"\n";
    let e = parse_err(&format!("{one}{one}"));
    assert!(
        e.contains("duplicate source name `a` (first defined on line 1)"),
        "{e}"
    );
    assert!(e.contains("c.toml:8:8:"), "{e}");
}

#[test]
fn syncro_subdomains_are_normalised_or_refused() {
    let c = parse_ok(
        "[[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"https://acme.syncromsp.com/\"\napi_key = \"t\"\n",
    );
    assert_eq!(
        c.sources[0].base_url.as_str(),
        "https://acme.syncromsp.com/"
    );
    let VendorConfig::Syncro(sy) = &c.sources[0].vendor else {
        panic!("syncro")
    };
    assert_eq!(
        (sy.subdomain.as_str(), sy.requests_per_minute),
        ("acme", 180)
    );
    let e = parse_err(
        "[[source]]\nname = \"s\"\nkind = \"syncro\"\nsubdomain = \"acme.example.com\"\napi_key = \"t\"\nrequests_per_minute = 0\nregion = \"us1\"\n",
    );
    assert!(
        e.contains("c.toml:4:13:") && e.contains("not a Syncro subdomain"),
        "{e}"
    );
    assert!(
        e.contains("c.toml:6:23:") && e.contains("between 1 and 10000"),
        "{e}"
    );
    assert!(
        e.contains("`region` is not a setting of a syncro source"),
        "{e}"
    );
}

#[test]
fn passportal_datacenters_and_swapped_keys() {
    let id = "a14e6b4923ba5027189baded6ba7b68e6fcda742008c5d57b867f43a09768ece";
    let src = |dc: &str, key: &str, secret: &str| {
        format!(
            "[[source]]\nname = \"pp\"\nkind = \"passportal\"\ndatacenter = \"{dc}\"\naccess_key_id = \"{key}\"\nsecret_access_key = \"{secret}\"\n"
        )
    };
    let c = parse_ok(&src("de", id, "s3cr3t-value"));
    assert_eq!(
        c.sources[0].base_url.as_str(),
        "https://de-clover.passportalmsp.com/"
    );
    let e = parse_err(&src("eu", id, "s3cr3t-value"));
    assert!(
        e.contains("c.toml:4:14:") && e.contains("unknown Passportal datacenter"),
        "{e}"
    );
    let e = parse_err(&src("us", "s3cr3t-value", id));
    assert!(
        e.contains("c.toml:5:17:") && e.contains("look swapped"),
        "{e}"
    );
    assert!(
        !e.contains(id) && !e.contains("s3cr3t"),
        "no secret in the message: {e}"
    );
}

#[test]
fn keys_of_another_kind_are_refused() {
    let e = parse_err(&format!("{AUVIK}subdomain = \"acme\"\n"));
    assert!(
        e.contains("`subdomain` is not a setting of a auvik source"),
        "{e}"
    );
}

#[test]
fn syncro_lifecycle_properties_are_names_of_syncro_sources_only() {
    let syncro =
        "[[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"acme\"\napi_key = \"t\"\n";
    let c = parse_ok(&format!(
        "{syncro}warranty_property = \" Warranty Expires \"\npurchase_property = \"Purchase Date\"\n"
    ));
    let crate::config::VendorConfig::Syncro(s) = &c.sources[0].vendor else {
        panic!("a syncro source")
    };
    assert_eq!(s.warranty_property.as_deref(), Some("Warranty Expires"));
    assert_eq!(s.purchase_property.as_deref(), Some("Purchase Date"));
    let none = parse_ok(syncro);
    let crate::config::VendorConfig::Syncro(s) = &none.sources[0].vendor else {
        panic!("a syncro source")
    };
    assert_eq!(
        (
            s.warranty_property.as_deref(),
            s.purchase_property.as_deref()
        ),
        (None, None)
    );
    let e = parse_err(&format!("{syncro}warranty_property = \"  \"\n"));
    assert!(
        e.contains("c.toml:6:21:") && e.contains("`warranty_property` must name"),
        "{e}"
    );
    let e = parse_err(&format!("{AUVIK}purchase_property = \"Purchase Date\"\n"));
    assert!(
        e.contains("`purchase_property` is not a setting of a auvik source"),
        "{e}"
    );
}

#[test]
fn inline_secret_in_a_shared_file_is_refused() {
    let e = parse(Path::new("c.toml"), AUVIK, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("chmod 600 c.toml"), "{e}");
    assert!(!e.contains("k-123"));
}

#[test]
fn a_socket_path_on_the_agents_own_files_is_refused() {
    let config = Path::new("/srv/assetd/config.toml");
    let with_listen = |listen: &str| {
        format!(
            "[agent]\ndatabase = \"/srv/assetd/a.db\"\nlisten = [\"unix:///run/x.sock\", \"unix://{listen}\"]\n"
        )
    };
    for (listen, what) in [
        ("/srv/assetd/a.db", "the database"),
        ("/srv/assetd//./a.db", "the database"),
        ("/srv/assetd/a.db-wal", "write-ahead log"),
        ("/srv/assetd/a.db-shm", "shared-memory file"),
        ("/srv/assetd/a.db.lock", "lock file"),
        ("/srv/assetd/config.toml", "this config file"),
    ] {
        let e = parse(config, &with_listen(listen), true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("`unix://{listen}` is {what}"))
                || e.contains(&format!("is the database's {what}")),
            "{listen}: {e}"
        );
        assert!(e.contains("config.toml:3:"), "located at the entry: {e}");
    }
    // Beside them is fine.
    parse(config, &with_listen("/srv/assetd/assetd.sock"), true).unwrap_or_else(|e| panic!("{e}"));
    // The same file through a symlink is still the same file.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    std::fs::write(&db, "").unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let text = format!(
        "[agent]\ndatabase = \"{}\"\nlisten = [\"unix://{}\"]\n",
        db.display(),
        link.display()
    );
    let e = parse(config, &text, true).unwrap_err().to_string();
    assert!(e.contains("is the database"), "{e}");
}

/// The name of this process's group in /etc/group, if it has one there.
fn own_group_name() -> Option<String> {
    let egid = rustix::process::getegid().as_raw().to_string();
    std::fs::read_to_string("/etc/group")
        .ok()?
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(2) == Some(&egid.as_str())).then(|| f[0].to_owned())
        })
}

#[test]
fn secret_files_open_to_the_sockets_group_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let Some(group) = own_group_name() else {
        println!("SKIPPED: this process's group is not in /etc/group");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "k-123\n").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let text = |socket_group: &str| {
        AUVIK
            .replace(
                "api_key = \"k-123\"",
                &format!("api_key = {{ file = \"{}\" }}", key.display()),
            )
            .replace(
                "listen = [\"unix:///tmp/x.sock\"]",
                &format!("listen = [\"unix:///tmp/x.sock\"]\n{socket_group}"),
            )
    };
    // The key's group is the socket's: whoever may query could read it.
    let e = parse_err(&text(&format!("socket_group = \"{group}\"")));
    assert!(
        e.contains(&format!(
            "secret file {} is open to group `{group}`, the group of the agent's socket",
            key.display()
        )) && e.contains("chmod 0600")
            && !e.contains("k-123"),
        "{e}"
    );
    let c = parse_ok(&text(&format!("socket_group = \"{group}\"\n")).replace(
        &format!("api_key = {{ file = \"{}\" }}", key.display()),
        "api_key = \"k-123\"",
    ));
    assert_eq!(
        c.agent.socket_group.gid,
        rustix::process::getegid().as_raw()
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    parse_ok(&text(&format!("socket_group = \"{group}\"")));
    // A group that does not exist is named, with what to do.
    let e = parse_err(&text("socket_group = \"assetd-no-such-group\""));
    assert!(
        e.contains(
            "c.toml:5:16: `socket_group = \"assetd-no-such-group\"`: this system has no group"
        ),
        "{e}"
    );
}

#[test]
fn plain_http_only_to_loopback() {
    let ok = parse_ok(&format!("{AUVIK}base_url = \"http://127.0.0.1:8080\"\n"));
    assert_eq!(ok.sources[0].base_url.as_str(), "http://127.0.0.1:8080/");
    let e = parse_err(&format!("{AUVIK}base_url = \"http://auvik.example\"\n"));
    assert!(e.contains("clear text"), "{e}");
}

#[test]
fn secret_forms_resolve() {
    // SAFETY: tests touching this variable run in this test only. set_var is unsafe since
    // edition 2024 (another thread reading the environment at that moment is undefined
    // behaviour); there is no safe form, and the secret forms read the real environment.
    unsafe { std::env::set_var("ASSETD_TEST_SECRET_ENV", "from-env") };
    let c = parse_ok(&AUVIK.replace("\"k-123\"", "{ env = \"ASSETD_TEST_SECRET_ENV\" }"));
    let VendorConfig::Auvik(a) = &c.sources[0].vendor else {
        panic!("auvik")
    };
    assert_eq!(a.api_key.expose(), "from-env");
    let e = parse_err(&AUVIK.replace("\"k-123\"", "{ env = \"ASSETD_TEST_NOT_SET_ANYWHERE\" }"));
    assert!(e.contains("ASSETD_TEST_NOT_SET_ANYWHERE is not set"), "{e}");
    let creds = tempfile::tempdir().unwrap();
    let cred = creds.path().join("auvik");
    std::fs::write(&cred, "from-credential\n").unwrap();
    std::fs::set_permissions(&cred, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    // SAFETY: only this test sets CREDENTIALS_DIRECTORY; no safe set_var exists (above).
    unsafe { std::env::set_var("CREDENTIALS_DIRECTORY", creds.path()) };
    let c = parse_ok(&AUVIK.replace("\"k-123\"", "{ credential = \"auvik\" }"));
    let VendorConfig::Auvik(a) = &c.sources[0].vendor else {
        panic!("auvik")
    };
    assert_eq!(a.api_key.expose(), "from-credential");
    let e = parse_err(&AUVIK.replace("\"k-123\"", "{ credential = \"auvik-typo\" }"));
    assert!(
        e.contains("credential `auvik-typo` is not in $CREDENTIALS_DIRECTORY")
            && e.contains("LoadCredential=auvik-typo:"),
        "{e}"
    );
    let e = parse_err(&AUVIK.replace("\"k-123\"", "{ credential = \"../auvik\" }"));
    assert!(e.contains("without `/`"), "{e}");
    let e = parse_err(&AUVIK.replace("\"k-123\"", "{ vault = \"x\" }"));
    assert!(e.contains("vault"), "{e}");
}

/// A self-signed certificate for 127.0.0.1 and its key, written to `dir` (key 0600).
fn cert_files(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    (cert, key)
}

const TOKEN: &str = "auth_tokens = [\"t0k3n-canary-0123456789\"]\n";

#[test]
fn plain_text_tcp_is_refused_off_loopback_with_what_to_add() {
    let e = parse_err(&format!(
        "[agent]\nlisten = [\"unix:///tmp/x.sock\", \"tcp://0.0.0.0:7443\"]\n{TOKEN}"
    ));
    assert!(e.starts_with("c.toml:2:33: `tcp://0.0.0.0:7443` is not a loopback address, so it must use TLS: add tls_cert"), "{e}");
    assert!(e.contains("tls_key = { file ="), "{e}");
    assert!(!e.contains("t0k3n-canary"), "{e}");
    // IPv6 "any" too.
    let e = parse_err(&format!("[agent]\nlisten = [\"tcp://[::]:7443\"]\n{TOKEN}"));
    assert!(e.contains("must use TLS"), "{e}");
}

#[test]
fn loopback_tcp_needs_only_a_token() {
    let c = parse_ok(&format!(
        "[agent]\nlisten = [\"tcp://127.0.0.1:7443\", \"tcp://localhost:7444\", \"tcp://[::1]:0\"]\n{TOKEN}"
    ));
    assert_eq!(
        c.agent.listen,
        vec![
            Listen::Tcp("127.0.0.1:7443".parse().unwrap()),
            Listen::Tcp("127.0.0.1:7444".parse().unwrap()),
            Listen::Tcp("[::1]:0".parse().unwrap()),
        ]
    );
    assert_eq!(c.agent.auth_tokens.len(), 1);
    assert!(c.agent.tls.is_none());
    assert!(
        !format!("{c:?}").contains("t0k3n-canary"),
        "Debug masks tokens"
    );
    // Without a token: refused, at the listener.
    let e = parse_err("[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\n");
    assert!(
        e.starts_with("c.toml:2:11: TCP listeners require bearer tokens: add auth_tokens"),
        "{e}"
    );
    let e = parse_err("[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\nauth_tokens = []\n");
    assert!(e.starts_with("c.toml:3:15: TCP listeners require"), "{e}");
}

#[test]
fn bad_tcp_addresses_and_tokens_are_explained() {
    for (listen, expect) in [
        ("tcp://assetd.example:7443", "is not an IP address"),
        ("tcp://0.0.0.0", "give HOST:PORT"),
        ("tcp://0.0.0.0:http", "is not a port number"),
        ("tcp://::1:7443", "in brackets"),
        ("udp://0.0.0.0:7443", "starts with unix:// or tcp://"),
    ] {
        let e = parse_err(&format!("[agent]\nlisten = [\"{listen}\"]\n{TOKEN}"));
        assert!(
            e.contains("c.toml:2:11:") && e.contains(expect),
            "{listen}: {e}"
        );
    }
    let e = parse_err(
        "[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\nauth_tokens = [\"short-t0k3n\"]\n",
    );
    assert!(
        e.contains("c.toml:3:16:") && e.contains("11 characters long; use at least 16"),
        "{e}"
    );
    assert!(!e.contains("short-t0k3n"), "the token is not quoted: {e}");
    let e = parse_err(&format!(
        "[agent]\nlisten = [\"tcp://127.0.0.1:1\", \"tcp://127.0.0.1:1\"]\n{TOKEN}"
    ));
    assert!(e.contains("listed twice"), "{e}");
}

#[test]
fn metrics_listen_takes_an_address_and_refuses_what_is_not_one() {
    let at = |text: &str| {
        parse_ok(&format!("[agent]\nmetrics_listen = \"{text}\"\n"))
            .agent
            .metrics_listen
    };
    assert_eq!(
        parse_ok("").agent.metrics_listen,
        None,
        "off unless asked for"
    );
    assert_eq!(
        at("127.0.0.1:9187"),
        Some("127.0.0.1:9187".parse().unwrap())
    );
    assert_eq!(at("0.0.0.0:9187"), Some("0.0.0.0:9187".parse().unwrap()));
    assert_eq!(at("[::1]:9187"), Some("[::1]:9187".parse().unwrap()));
    assert_eq!(at("localhost:0"), Some("127.0.0.1:0".parse().unwrap()));
    for (text, expect) in [
        ("http://127.0.0.1:9187", "without `http://`"),
        ("127.0.0.1", "give HOST:PORT"),
        ("127.0.0.1:http", "is not a port number"),
        ("127.0.0.1:70000", "is not a port number"),
        ("metrics.example:9187", "is not an IP address"),
        ("::1:9187", "in brackets"),
    ] {
        let e = parse_err(&format!("[agent]\nmetrics_listen = \"{text}\"\n"));
        assert!(e.starts_with("c.toml:2:18: `metrics_listen"), "{text}: {e}");
        assert!(e.contains(expect), "{text}: {e}");
        assert!(
            !e.contains("tcp://"),
            "metrics are not a tcp:// listener: {e}"
        );
    }
    let e = parse_err(&format!(
        "[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\n{TOKEN}metrics_listen = \"0.0.0.0:7443\"\n"
    ));
    assert!(e.contains("is the port of a `tcp://` listener"), "{e}");
    let e = parse_err("[agent]\nmetrics_listen = 9187\n");
    assert!(e.contains("c.toml:2:18"), "{e}");
}

#[test]
fn tls_files_are_read_and_checked_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = cert_files(dir.path(), "server");
    let (_, other_key) = cert_files(dir.path(), "other");
    let agent = |cert: &Path, key: &Path, extra: &str| {
        format!(
            "[agent]\nlisten = [\"tcp://0.0.0.0:7443\"]\n{TOKEN}tls_cert = \"{}\"\ntls_key = {{ file = \"{}\" }}\n{extra}",
            cert.display(),
            key.display()
        )
    };
    let c = parse_ok(&agent(&cert, &key, ""));
    let tls = c.agent.tls.as_ref().expect("TLS");
    assert_eq!(tls.cert, cert);
    assert!(tls.client_ca.is_none());
    assert!(!format!("{c:?}").contains("PRIVATE KEY"));
    // Mutual TLS: any PEM certificate serves as the client CA here.
    let c = parse_ok(&agent(
        &cert,
        &key,
        &format!("tls_client_ca = \"{}\"\n", cert.display()),
    ));
    assert_eq!(c.agent.tls.unwrap().client_ca, Some(cert.clone()));

    let e = parse_err(&agent(&dir.path().join("none.pem"), &key, ""));
    assert!(
        e.starts_with("c.toml:4:12: `tls_cert`: cannot read ") && e.contains("none.pem"),
        "{e}"
    );
    let e = parse_err(&agent(&cert, &other_key, ""));
    assert!(
        e.starts_with("c.toml:5:11: `tls_key`:")
            && e.contains("does not belong to the certificate"),
        "{e}"
    );
    std::fs::write(dir.path().join("junk.pem"), "not a certificate\n").unwrap();
    let e = parse_err(&agent(&dir.path().join("junk.pem"), &key, ""));
    assert!(e.contains("holds no PEM certificate"), "{e}");
    let cert_as_key = dir.path().join("cert-as-key.pem");
    std::fs::copy(&cert, &cert_as_key).unwrap();
    std::fs::set_permissions(
        &cert_as_key,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let e = parse_err(&agent(&cert, &cert_as_key, ""));
    assert!(
        e.contains("`tls_key`:") && e.contains("not a PEM private key"),
        "{e}"
    );
    let e = parse_err(&agent(
        &cert,
        &key,
        &format!(
            "tls_client_ca = \"{}\"\n",
            dir.path().join("junk.pem").display()
        ),
    ));
    assert!(e.contains("c.toml:6:17: `tls_client_ca`:"), "{e}");
    // Half a TLS setup says what is missing.
    let e = parse_err(&format!(
        "[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\n{TOKEN}tls_cert = \"{}\"\n",
        cert.display()
    ));
    assert!(e.contains("`tls_cert` needs `tls_key` too"), "{e}");
    let e = parse_err(&format!(
        "[agent]\ntls_client_ca = \"{}\"\n",
        cert.display()
    ));
    assert!(
        e.contains("`tls_client_ca` needs `tls_cert` and `tls_key`"),
        "{e}"
    );
}

#[test]
fn client_members_must_name_configured_sources() {
    let e = parse_err(&format!(
        "{AUVIK}\n[[client]]\nname = \"Contoso\"\nmembers = [\"auvik:contoso\", \"syncro:Contoso\", \"nocolon\"]\n"
    ));
    assert!(
        e.contains("names source `syncro`, which is not configured"),
        "{e}"
    );
    assert!(e.contains("must be \"SOURCE:NAME-or-ID\""), "{e}");
}
