//! The Debian package and the systemd files, checked with the system's own tools where it
//! has them (dpkg-deb, lintian, systemd-analyze, systemd-sysusers); each check says why it
//! is skipped when a tool is missing. `cargo test` installs nothing: `.ci/run` installs
//! lintian where apt can, so CI runs the lintian check.
//!
//! The package is built by `packaging/build-deb.sh --bin-dir` from the binaries this test
//! run already built (the test profile's), so no second, release build happens here; the
//! script's default (`cargo build --release`) is what the README documents.

use crate::common;
use crate::common::{ASSETD, short_tempdir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cargo_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

#[test]
fn the_deb_installs_everything_where_debian_expects_it() {
    if !have("dpkg-deb") {
        println!("SKIPPED: dpkg-deb is not installed, so the .deb cannot be built here");
        return;
    }
    if !["strip", "objcopy", "readelf"].into_iter().all(have) {
        println!("SKIPPED: binutils is not installed, so the binaries cannot be stripped here");
        return;
    }
    let bin_dir = Path::new(ASSETD).parent().expect("the binaries' directory");
    let out_dir = short_tempdir();
    let built = run(Command::new(repo().join("packaging/build-deb.sh"))
        .arg("--bin-dir")
        .arg(bin_dir)
        .arg("--out")
        .arg(out_dir.path())
        // gzip, the quicker of the two compressions lintian accepts (xz is the default).
        .args(["--compress", "gzip"]));
    let printed = text(&built);
    let paths: Vec<PathBuf> = printed.lines().map(PathBuf::from).collect();
    let [ddeb, deb] = paths.as_slice() else {
        panic!("build-deb.sh prints the .ddeb's and the .deb's paths:\n{printed}")
    };
    let (ddeb, deb) = (ddeb.clone(), deb.clone());
    let arch = text(&run(Command::new("dpkg").arg("--print-architecture")));
    assert_eq!(
        deb.file_name().and_then(|n| n.to_str()),
        Some(format!("assetd_{}-1_{}.deb", cargo_version(), arch.trim()).as_str())
    );

    // Control fields: the version is Cargo.toml's, dependencies are computed.
    let field = |name: &str| {
        text(&run(Command::new("dpkg-deb").arg("-f").arg(&deb).arg(name)))
            .trim()
            .to_string()
    };
    assert_eq!(field("Package"), "assetd");
    assert_eq!(field("Version"), format!("{}-1", cargo_version()));
    assert!(field("Depends").contains("libc6"), "{}", field("Depends"));
    // postinst falls back to adduser where systemd-sysusers is missing.
    assert!(
        field("Depends").split(", ").any(|d| d == "adduser"),
        "{}",
        field("Depends")
    );
    assert!(!field("Description").is_empty());

    // Contents, with owners and modes.
    let listing = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)));
    let entry = |path: &str| {
        listing
            .lines()
            .find(|l| l.ends_with(&format!(" ./{path}")) || l.ends_with(&format!(" ./{path}/")))
            .unwrap_or_else(|| panic!("{path} is not in the package:\n{listing}"))
            .to_string()
    };
    for (path, mode) in [
        ("usr/bin/assetd", "-rwxr-xr-x"),
        ("usr/bin/assetctl", "-rwxr-xr-x"),
        ("usr/lib/systemd/system/assetd.service", "-rw-r--r--"),
        ("usr/lib/sysusers.d/assetd.conf", "-rw-r--r--"),
        ("etc/assetd", "drwxr-x---"),
        ("etc/assetd/config.toml", "-rw-r-----"),
        ("usr/share/doc/assetd/config.example.toml", "-rw-r--r--"),
        ("usr/share/doc/assetd/copyright", "-rw-r--r--"),
        ("usr/share/doc/assetd/changelog.Debian.gz", "-rw-r--r--"),
        ("usr/share/lintian/overrides/assetd", "-rw-r--r--"),
        ("usr/share/man/man1/assetd.1.gz", "-rw-r--r--"),
        ("usr/share/man/man1/assetd-run.1.gz", "-rw-r--r--"),
        ("usr/share/man/man1/assetctl.1.gz", "-rw-r--r--"),
        ("usr/share/man/man1/assetctl-assets-list.1.gz", "-rw-r--r--"),
        ("usr/share/bash-completion/completions/assetd", "-rw-r--r--"),
        (
            "usr/share/bash-completion/completions/assetctl",
            "-rw-r--r--",
        ),
        ("usr/share/zsh/vendor-completions/_assetd", "-rw-r--r--"),
        ("usr/share/zsh/vendor-completions/_assetctl", "-rw-r--r--"),
        (
            "usr/share/fish/vendor_completions.d/assetd.fish",
            "-rw-r--r--",
        ),
        (
            "usr/share/fish/vendor_completions.d/assetctl.fish",
            "-rw-r--r--",
        ),
    ] {
        let line = entry(path);
        assert!(
            line.starts_with(mode) && line.contains(" root/root "),
            "{path}: expected {mode} root/root, got {line}"
        );
    }
    assert!(
        !listing.contains("generate"),
        "the hidden generate command gets no page or completion:\n{listing}"
    );

    // The control area: conffiles and maintainer scripts.
    let control = out_dir.path().join("control");
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
    assert_eq!(
        std::fs::read_to_string(control.join("conffiles")).unwrap(),
        "/etc/assetd/config.toml\n"
    );
    let script = |name: &str| {
        let path = control.join(name);
        for shell in ["sh", "dash"] {
            if have(shell) {
                run(Command::new(shell).arg("-n").arg(&path));
            }
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755, "{name} must be executable");
        std::fs::read_to_string(path).unwrap()
    };
    let postinst = script("postinst");
    for line in [
        "systemd-sysusers assetd.conf",
        "adduser --system --ingroup assetd",
        "addgroup --system assetd-query",
        "chown root:assetd /etc/assetd",
        "chmod 0750 /etc/assetd",
        "chmod 0640 /etc/assetd/config.toml",
        "dpkg-statoverride --list /etc/assetd",
        "deb-systemd-helper enable assetd.service",
        "if [ -d /run/systemd/system ]; then",
        "systemctl --system daemon-reload",
    ] {
        assert!(postinst.contains(line), "postinst lacks `{line}`");
    }
    let prerm = script("prerm");
    assert!(prerm.contains("stop assetd.service") && prerm.contains("[ \"$1\" = remove ]"));
    let postrm = script("postrm");
    assert!(postrm.contains("[ \"$1\" = purge ]") && postrm.contains("rm -rf /var/lib/assetd"));
    assert!(
        !postrm
            .lines()
            .any(|l| l.trim_start().starts_with("rm ") && l.contains("/etc/assetd")),
        "purge leaves the admin's files under /etc/assetd to dpkg and the admin"
    );
    // systemctl only for daemon-reload: the rest goes through deb-systemd-helper and
    // deb-systemd-invoke (which honours policy-rc.d), as dh_installsystemd's snippets do.
    for (name, body) in [
        ("postinst", &postinst),
        ("prerm", &prerm),
        ("postrm", &postrm),
    ] {
        for line in body.lines().filter(|l| !l.trim_start().starts_with('#')) {
            assert!(
                !line.contains("systemctl ") || line.contains("daemon-reload"),
                "{name} calls systemctl: {line}"
            );
        }
    }

    // The files themselves, as installed.
    let root = out_dir.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    assert_eq!(
        std::fs::read(root.join("usr/lib/systemd/system/assetd.service")).unwrap(),
        std::fs::read(repo().join("packaging/assetd.service")).unwrap()
    );
    let packaged = root.join("usr/bin/assetd");
    let changelog = text(&run(Command::new("gzip")
        .arg("-dc")
        .arg(root.join("usr/share/doc/assetd/changelog.Debian.gz"))));
    assert!(
        changelog.starts_with(&format!("assetd ({}-1) ", cargo_version())),
        "the changelog's top entry is this version:\n{changelog}"
    );
    let version = text(&run(Command::new(&packaged).arg("--version")));
    assert_eq!(version.trim(), format!("assetd {}", cargo_version()));
    let man = run(Command::new("gzip")
        .arg("-dc")
        .arg(root.join("usr/share/man/man1/assetd.1.gz")));
    let man = text(&man);
    assert!(
        man.contains(".TH assetd 1") && man.contains(".SH FILES") && man.contains("SIGHUP"),
        "{man}"
    );
    if have("bash") {
        for bin in ["assetd", "assetctl"] {
            run(Command::new("bash")
                .arg("-n")
                .arg(root.join("usr/share/bash-completion/completions").join(bin)));
        }
    }

    // The conffile passes check-config as shipped (no sources yet, so the service starts
    // right after install and says what to add).
    let conffile = root.join("etc/assetd/config.toml");
    let ok = run(Command::new(&packaged).arg("check-config").arg(&conffile));
    assert!(text(&ok).contains("ok (0 sources)"), "{}", text(&ok));

    // The example passes once its three credentials exist, and names each missing one
    // without them.
    let example = root.join("usr/share/doc/assetd/config.example.toml");
    let refused = Command::new(&packaged)
        .arg("check-config")
        .arg(&example)
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let why = String::from_utf8_lossy(&refused.stderr);
    for name in ["auvik", "syncro", "passportal"] {
        assert!(
            why.contains(&format!("{{ credential = \"{name}\" }}")),
            "{why}"
        );
    }
    let creds = out_dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    for name in ["auvik", "syncro", "passportal"] {
        common::write_private(&creds.join(name), "placeholder-secret\n");
    }
    let ok = run(Command::new(&packaged)
        .arg("check-config")
        .arg(&example)
        .env("CREDENTIALS_DIRECTORY", &creds));
    assert!(text(&ok).contains("ok (3 sources)"), "{}", text(&ok));

    // The binaries are stripped as dh_strip strips them; their debug information is in the
    // -dbgsym package, under their build ids, and they keep a debuglink to it.
    assert_eq!(
        ddeb.file_name().and_then(|n| n.to_str()),
        Some(format!("assetd-dbgsym_{}-1_{}.ddeb", cargo_version(), arch.trim()).as_str())
    );
    let dbg_listing = text(&run(Command::new("dpkg-deb").arg("-c").arg(&ddeb)));
    let dbg_field = |name: &str| {
        text(&run(Command::new("dpkg-deb")
            .arg("-f")
            .arg(&ddeb)
            .arg(name)))
        .trim()
        .to_string()
    };
    assert_eq!(
        dbg_field("Depends"),
        format!("assetd (= {}-1)", cargo_version())
    );
    for bin in ["assetd", "assetctl"] {
        let path = root.join("usr/bin").join(bin);
        let sections = text(&run(Command::new("readelf").arg("-SW").arg(&path)));
        for gone in [" .symtab ", " .debug_info ", " .comment "] {
            assert!(!sections.contains(gone), "{bin} still has{gone}");
        }
        assert!(
            sections.contains(" .gnu_debuglink "),
            "{bin} has no debuglink"
        );
        let notes = text(&run(Command::new("readelf").arg("-n").arg(&path)));
        let Some(id) = notes
            .lines()
            .find_map(|l| l.trim().strip_prefix("Build ID: "))
        else {
            println!("SKIPPED the build-id check: {bin} has no build id");
            continue;
        };
        let file = format!("./usr/lib/debug/.build-id/{}/{}.debug", &id[..2], &id[2..]);
        assert!(
            dbg_listing.contains(&file),
            "{bin}'s debug file {file} is not in the -dbgsym package:\n{dbg_listing}"
        );
        assert!(
            dbg_field("Build-Ids").contains(id),
            "{}",
            dbg_field("Build-Ids")
        );
    }

    // lintian, Debian's own package checker: no error and no warning but those
    // packaging/deb/lintian-overrides accepts with their reasons, and no stale override.
    if !have("lintian") {
        println!(
            "SKIPPED lintian: it is not installed (`apt-get install lintian`; .ci/run installs it)"
        );
        return;
    }
    let lintian = Command::new("lintian")
        .args(["--fail-on", "error,warning", "--display-info"])
        .arg(&deb)
        .arg(&ddeb)
        .output()
        .expect("lintian runs");
    let said = text(&lintian);
    assert!(
        lintian.status.success(),
        "lintian failed ({}):\n{said}{}",
        lintian.status,
        String::from_utf8_lossy(&lintian.stderr)
    );
    for line in said.lines() {
        assert!(
            !line.starts_with("E:")
                && !line.starts_with("W:")
                && !line.contains("unused-override")
                && !line.contains("mismatched-override"),
            "lintian: {line}\n{said}"
        );
    }
}

/// `systemd-analyze verify` on the unit as shipped, except that ExecStart= and
/// ExecStartPre= point at the binary this test built (verify checks that they exist and
/// are executable, and /usr/bin/assetd is not installed here).
#[test]
fn the_unit_verifies_and_is_well_sandboxed() {
    if !have("systemd-analyze") {
        println!("SKIPPED: systemd-analyze is not installed, so the unit cannot be verified here");
        return;
    }
    let dir = short_tempdir();
    let unit = std::fs::read_to_string(repo().join("packaging/assetd.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/bin/assetd run --config /etc/assetd/config.toml"));
    // Room for every connection the agent admits (agent/server/guard.rs) with its own files,
    // and no core file that would hold the credentials (the agent is non-dumpable as well).
    // The socket's group is the querying group, never `assetd`, which reads the secrets: the
    // service runs with it as its group (the socket is made in it; the agent may not chown),
    // `assetd` only supplementary, and a umask that opens nothing to that group.
    for line in [
        "LimitNOFILE=65536",
        "LimitCORE=0",
        "User=assetd",
        "Group=assetd-query",
        "SupplementaryGroups=assetd",
        "UMask=0077",
        "StateDirectoryMode=0700",
        "RuntimeDirectoryMode=0750",
    ] {
        assert!(
            unit.lines().any(|l| l.trim() == line),
            "the unit lacks `{line}`"
        );
    }
    let copy = dir.path().join("assetd.service");
    std::fs::write(&copy, unit.replace("/usr/bin/assetd", ASSETD)).unwrap();
    // --man=no: the man pages named in Documentation= are in the package, not on this
    // machine (the package test checks they are built).
    let out = run(Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&copy));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // verify exits 0 on unknown keys and bad values; it only says so.
    assert!(
        !said.contains("assetd.service"),
        "systemd-analyze verify complained:\n{said}"
    );

    // The sandbox's rating (systemd 250+ rates a unit file offline). 0 is perfect, 10
    // unprotected; the README records the figure.
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&copy)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&security.stdout),
        String::from_utf8_lossy(&security.stderr)
    );
    let Some(score) = report
        .lines()
        .find_map(|l| l.split("exposure level for assetd.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
    else {
        println!(
            "SKIPPED the security rating: this systemd-analyze cannot rate a unit file offline:\n{report}"
        );
        return;
    };
    println!("systemd-analyze security: exposure {score}");
    assert!(score <= 2.0, "exposure {score}:\n{report}");
}

/// The sysusers file creates the user and group `assetd` and the querying group
/// `assetd-query`, in a scratch root; the user is in no group but its own.
#[test]
fn sysusers_creates_the_assetd_user() {
    if !have("systemd-sysusers") {
        println!("SKIPPED: systemd-sysusers is not installed");
        return;
    }
    let root = short_tempdir();
    let conf_dir = root.path().join("usr/lib/sysusers.d");
    std::fs::create_dir_all(&conf_dir).unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::copy(
        repo().join("packaging/assetd.sysusers"),
        conf_dir.join("assetd.conf"),
    )
    .unwrap();
    run(Command::new("systemd-sysusers")
        .arg(format!("--root={}", root.path().display()))
        .arg("assetd.conf"));
    let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).unwrap();
    let group = std::fs::read_to_string(root.path().join("etc/group")).unwrap();
    let user = passwd
        .lines()
        .find(|l| l.starts_with("assetd:"))
        .unwrap_or_else(|| panic!("no assetd user:\n{passwd}"));
    let fields: Vec<&str> = user.split(':').collect();
    assert_eq!(fields[5], "/var/lib/assetd", "{user}");
    assert!(fields[6].ends_with("nologin"), "{user}");
    let uid: u32 = fields[2].parse().unwrap();
    assert!(uid < 1000, "a system user: {user}");
    assert!(group.lines().any(|l| l.starts_with("assetd:")), "{group}");
    let query = group
        .lines()
        .find(|l| l.starts_with("assetd-query:"))
        .unwrap_or_else(|| panic!("no assetd-query group:\n{group}"));
    let fields: Vec<&str> = query.split(':').collect();
    assert!(
        fields[2].parse::<u32>().unwrap() < 1000,
        "a system group: {query}"
    );
    assert_eq!(fields[3], "", "nobody is put in it by the package: {query}");
    assert!(
        group
            .lines()
            .all(|l| !l.starts_with("assetd:") || l.ends_with(':')),
        "no member is put in `assetd`:\n{group}"
    );
}
