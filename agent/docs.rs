//! Man pages and shell completions, generated from the binaries' own clap definitions so
//! they cannot drift from the real flags. Both binaries get a hidden `generate`
//! subcommand (`generate man DIR`, `generate completion SHELL`), which the package build
//! (`packaging/build-deb.sh`) calls. It is added to the parsed command only, never to the
//! one the pages and completions are made from, so it documents and completes nothing.

use clap::{Arg, ArgMatches, Command};
use clap_complete::Shell;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    #[error("cannot write man pages to {dir}: {source}")]
    Man {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the completion script: {0}")]
    Write(std::io::Error),
}

/// `cmd` plus the hidden `generate` subcommand, for parsing.
pub fn with_generate(cmd: Command) -> Command {
    cmd.subcommand(
        Command::new("generate")
            .hide(true)
            .about("Write man pages or shell completions (used to build packages)")
            .subcommand_required(true)
            .subcommand(
                Command::new("man")
                    .about("Write one man page per command into DIR")
                    .arg(
                        Arg::new("dir")
                            .required(true)
                            .value_parser(clap::value_parser!(PathBuf)),
                    ),
            )
            .subcommand(
                Command::new("completion")
                    .about("Print the completion script for SHELL")
                    .arg(
                        Arg::new("shell")
                            .required(true)
                            .value_parser(clap::value_parser!(Shell)),
                    ),
            ),
    )
}

/// A man page section of `term: text` entries (FILES, ENVIRONMENT, SIGNALS): written as
/// such into the top-level page, and as plain text into `--help`.
pub struct Section {
    pub title: &'static str,
    pub entries: &'static [(&'static str, &'static str)],
}

/// The sections as `--help` text (after the options).
pub fn help_text(sections: &[Section]) -> String {
    let mut out = String::new();
    for s in sections {
        let width = s.entries.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
        out.push_str(&format!("{}:\n", title_case(s.title)));
        for (term, text) in s.entries {
            out.push_str(&format!("  {term:width$}  {text}\n"));
        }
        out.push('\n');
    }
    out.trim_end().to_string()
}

fn title_case(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut c = lower.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Runs `generate` if that is what `matches` asks for (`None` otherwise). `cmd` is the
/// command without `generate`, as the user sees it; `sections` go into its top-level page.
pub fn generate(
    matches: &ArgMatches,
    cmd: Command,
    sections: &[Section],
) -> Option<Result<(), DocsError>> {
    let ("generate", sub) = matches.subcommand()? else {
        return None;
    };
    Some(match sub.subcommand() {
        Some(("man", m)) => {
            let dir = m
                .get_one::<PathBuf>("dir")
                .cloned()
                .unwrap_or_else(|| PathBuf::from("."));
            man_pages(cmd, &dir, sections)
        }
        Some(("completion", m)) => {
            let shell = m.get_one::<Shell>("shell").copied().unwrap_or(Shell::Bash);
            let name = cmd.get_name().to_string();
            let mut cmd = cmd;
            // Into memory first: clap_complete panics on a failed write (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, name, &mut script);
            std::io::Write::write_all(&mut std::io::stdout(), &script).map_err(DocsError::Write)
        }
        _ => Ok(()),
    })
}

/// One page per command and subcommand (`assetd.1`, `assetd-run.1`, …) in `dir`; the
/// top-level page gets `sections` in place of the help's free-form trailer.
pub fn man_pages(cmd: Command, dir: &Path, sections: &[Section]) -> Result<(), DocsError> {
    let err = |source| DocsError::Man {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    clap_mangen::generate_to(cmd.clone(), dir).map_err(err)?;
    if sections.is_empty() {
        return Ok(());
    }
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let man = clap_mangen::Man::new(cmd);
    let mut page = Vec::new();
    (|| {
        man.render_title(&mut page)?;
        man.render_name_section(&mut page)?;
        man.render_synopsis_section(&mut page)?;
        man.render_description_section(&mut page)?;
        man.render_options_section(&mut page)?;
        man.render_subcommands_section(&mut page)?;
        for s in sections {
            page.extend_from_slice(roff_section(s).as_bytes());
        }
        man.render_version_section(&mut page)
    })()
    .map_err(err)?;
    std::fs::write(dir.join(man.get_filename()), page).map_err(err)
}

fn roff_section(s: &Section) -> String {
    let mut out = format!(".SH {}\n", s.title);
    for (term, text) in s.entries {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_escape(term),
            roff_escape(text)
        ));
    }
    out
}

/// Text safe in a roff line: backslashes and hyphens escaped (so `--flag` stays ASCII and
/// copy-pastes), and a leading dot or quote not taken for a request.
fn roff_escape(s: &str) -> String {
    let e = s.replace('\\', "\\e").replace('-', "\\-");
    if e.starts_with('.') || e.starts_with('\'') {
        format!("\\&{e}")
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Command {
        Command::new("tool")
            .version("1.2.3")
            .about("A tool")
            .subcommand(Command::new("run").about("Run it"))
    }

    #[test]
    fn pages_cover_subcommands_but_not_generate() {
        let dir = tempfile::tempdir().unwrap();
        let matches = with_generate(sample())
            .try_get_matches_from(["tool", "generate", "man", dir.path().to_str().unwrap()])
            .unwrap();
        const SECTIONS: &[Section] = &[Section {
            title: "FILES",
            entries: &[("/etc/tool.conf", "the config; --help-like text")],
        }];
        generate(&matches, sample(), SECTIONS).unwrap().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["tool-run.1", "tool.1"]);
        let page = std::fs::read_to_string(dir.path().join("tool.1")).unwrap();
        assert!(page.contains("A tool") && page.contains("1.2.3"), "{page}");
        assert!(!page.contains("generate"), "{page}");
        assert!(
            page.contains(
                ".SH FILES\n.TP\n\\fB/etc/tool.conf\\fR\nthe config; \\-\\-help\\-like text\n"
            ),
            "{page}"
        );
        assert_eq!(
            help_text(SECTIONS),
            "Files:\n  /etc/tool.conf  the config; --help-like text"
        );
    }

    #[test]
    fn other_subcommands_are_left_to_the_caller() {
        let matches = with_generate(sample())
            .try_get_matches_from(["tool", "run"])
            .unwrap();
        assert!(generate(&matches, sample(), &[]).is_none());
    }
}
