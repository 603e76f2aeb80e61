//! `[[hook]]` tables (issue 23): who is told of which events, and how.
//!
//! A hook is a webhook (`url` and `secret`: each event is POSTed and signed) or a command
//! (`command`: each event on its stdin). Its `events` are type names or `"*"`. The URL
//! follows `base_url`'s rules (https, or http:// only to loopback; no `user:password@`),
//! and the secret is a secret like any other (never shown, never logged).

use super::check::{Checker, is_plain_name};
use crate::event::EventType;
use crate::secret::{Secret, SecretSpec};
use serde::Deserialize;
use std::collections::HashSet;
use std::time::Duration;
use toml::Spanned;

/// One configured hook.
#[derive(Debug, Clone, PartialEq)]
pub struct HookConfig {
    /// Unique, `[a-z0-9-]+`: names its outbox (`assetctl hooks`), so a rename starts afresh.
    pub name: String,
    /// The types it receives; empty: every type (`["*"]`).
    pub events: Vec<EventType>,
    pub target: HookTarget,
    /// One delivery, from connecting (or starting the command) to its answer (or exit).
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HookTarget {
    /// POST each event, signed with `secret` (HMAC-SHA256, `X-Assetd-Signature-256`).
    Webhook { url: url::Url, secret: Secret },
    /// Run `command[0]` with the rest as arguments (no shell), the event on stdin.
    Command { argv: Vec<String> },
}

impl HookConfig {
    /// Whether the hook wants events of this type.
    pub fn wants(&self, kind: EventType) -> bool {
        self.events.is_empty() || self.events.contains(&kind)
    }
}

/// A delivery that takes longer than this by default has failed (and is retried).
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest `timeout` a hook may set: a delivery holds the hook's queue meanwhile.
const MAX_HOOK_TIMEOUT: Duration = Duration::from_secs(600);

/// One `[[hook]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHook {
    pub name: Spanned<String>,
    pub events: Option<Spanned<Vec<Spanned<String>>>>,
    pub url: Option<Spanned<String>>,
    pub secret: Option<Spanned<SecretSpec>>,
    pub command: Option<Spanned<Vec<Spanned<String>>>>,
    pub timeout: Option<Spanned<String>>,
}

impl Checker<'_> {
    /// Every `[[hook]]`, each checked whole; names must be unique.
    pub(super) fn hooks(&mut self, raw: &[Spanned<RawHook>]) -> Vec<HookConfig> {
        let mut names = HashSet::new();
        let mut out = Vec::new();
        for h in raw {
            let name = h.get_ref().name.get_ref();
            if !names.insert(name.clone()) {
                self.error(
                    &h.get_ref().name,
                    format!("duplicate hook name `{name}`; every [[hook]] needs a unique name"),
                );
                continue;
            }
            if let Some(hook) = self.hook(h) {
                out.push(hook);
            }
        }
        out
    }

    fn hook(&mut self, h: &Spanned<RawHook>) -> Option<HookConfig> {
        let raw = h.get_ref();
        let name = raw.name.get_ref().clone();
        let errors_before = self.errors.len();
        if !is_plain_name(&name) {
            self.error(
                &raw.name,
                format!("hook name `{name}` may use only a-z, 0-9 and '-'"),
            );
        }
        let events = self.hook_events(&name, h);
        let timeout = self.positive_duration(&raw.timeout, DEFAULT_HOOK_TIMEOUT, "timeout");
        if let Some(t) = &raw.timeout
            && timeout > MAX_HOOK_TIMEOUT
        {
            self.error(
                t,
                format!(
                    "hook `{name}`: `timeout` is at most 10m (a delivery holds the hook's queue)"
                ),
            );
        }
        let target = match (&raw.url, &raw.command) {
            (Some(url), None) => {
                let url = self.http_url(url, "url");
                let secret = match &raw.secret {
                    Some(spec) => {
                        let before = self.errors.len();
                        let secret = self.secret(spec, "secret");
                        if self.errors.len() == before && secret.expose().trim().len() < 16 {
                            self.error(
                                spec,
                                format!("hook `{name}`: the secret is shorter than 16 characters; use `openssl rand -hex 32`"),
                            );
                        }
                        Some(secret)
                    }
                    None => {
                        self.error_at(
                            Some(h.span().start),
                            format!(
                                "hook `{name}`: a webhook needs a `secret`, so its receiver can tell assetd's \
                                 requests from anyone else's: secret = {{ file = \"/etc/assetd/secrets/hook-{name}\" }} \
                                 (e.g. `openssl rand -hex 32`)"
                            ),
                        );
                        None
                    }
                };
                HookTarget::Webhook {
                    url: url?,
                    secret: secret?,
                }
            }
            (None, Some(command)) => {
                if let Some(spec) = &raw.secret {
                    self.error(
                        spec,
                        format!("hook `{name}`: `secret` signs webhooks; a command reads the event on its stdin from assetd itself, so remove it"),
                    );
                }
                let argv: Vec<String> = command
                    .get_ref()
                    .iter()
                    .map(|a| a.get_ref().clone())
                    .collect();
                match argv.first() {
                    None => {
                        self.error(
                            command,
                            format!("hook `{name}`: `command` is empty; give the program and its arguments, e.g. [\"/usr/local/bin/notify\", \"--channel\", \"noc\"]"),
                        );
                        return None;
                    }
                    Some(program) if !program.starts_with('/') => {
                        self.error(
                            &command.get_ref()[0],
                            format!("hook `{name}`: `{program}` is not an absolute path; commands run without a shell or a PATH search, so give the full path (e.g. /usr/local/bin/{program})"),
                        );
                        return None;
                    }
                    Some(_) => {}
                }
                HookTarget::Command { argv }
            }
            (Some(url), Some(_)) => {
                self.error(
                    url,
                    format!("hook `{name}`: give either `url` (a webhook) or `command`, not both"),
                );
                return None;
            }
            (None, None) => {
                self.error_at(
                    Some(h.span().start),
                    format!("hook `{name}`: give `url` (a webhook, with `secret`) or `command` (the event on its stdin)"),
                );
                return None;
            }
        };
        (self.errors.len() == errors_before).then_some(HookConfig {
            name,
            events,
            target,
            timeout,
        })
    }

    /// `events = ["run.finished", …]` or `["*"]`: every type.
    fn hook_events(&mut self, name: &str, h: &Spanned<RawHook>) -> Vec<EventType> {
        let Some(list) = &h.get_ref().events else {
            self.error_at(
                Some(h.span().start),
                format!("hook `{name}`: `events` is missing: list the types it receives, or [\"*\"] for all ({})", EventType::names()),
            );
            return Vec::new();
        };
        if list.get_ref().is_empty() {
            self.error(
                list,
                format!("hook `{name}`: `events` is empty: list the types it receives, or [\"*\"] for all"),
            );
            return Vec::new();
        }
        let mut types = Vec::new();
        for t in list.get_ref() {
            if t.get_ref() == "*" {
                return Vec::new();
            }
            match t.get_ref().parse::<EventType>() {
                Ok(kind) if !types.contains(&kind) => types.push(kind),
                Ok(_) => {}
                Err(e) => self.error(
                    t,
                    format!(
                        "hook `{name}`: {e}; the types are {}, or \"*\" for all",
                        EventType::names()
                    ),
                ),
            }
        }
        types
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use std::path::Path;

    const SECRET: &str = "0123456789abcdef0123";

    fn parse_ok(text: &str) -> crate::config::Config {
        parse(Path::new("c.toml"), text, true).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &str) -> String {
        parse(Path::new("c.toml"), text, true)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn webhooks_and_commands_load_with_their_events() {
        let c = parse_ok(&format!(
            "[agent]\nevent_retention = \"7d\"\n\n\
             [[hook]]\nname = \"psa\"\nevents = [\"run.finished\", \"asset.removed\", \"counts.changed\"]\n\
             url = \"https://psa-bridge.msp.example/assetd\"\nsecret = \"{SECRET}\"\n\n\
             [[hook]]\nname = \"teams\"\nevents = [\"*\"]\ncommand = [\"/usr/local/bin/notify-teams\", \"--channel\", \"noc\"]\ntimeout = \"5s\"\n"
        ));
        assert_eq!(c.agent.event_retention, Duration::from_secs(7 * 86400));
        let psa = &c.hooks[0];
        assert_eq!(
            psa.events,
            [
                EventType::RunFinished,
                EventType::AssetRemoved,
                EventType::CountsChanged
            ]
        );
        assert!(psa.wants(EventType::RunFinished) && !psa.wants(EventType::RunStarted));
        assert_eq!(psa.timeout, DEFAULT_HOOK_TIMEOUT);
        let HookTarget::Webhook { url, secret } = &psa.target else {
            panic!("a webhook")
        };
        assert_eq!(url.as_str(), "https://psa-bridge.msp.example/assetd");
        assert_eq!(secret.expose(), SECRET);
        // The secret never shows in the config's Debug form.
        assert!(!format!("{c:?}").contains(SECRET));
        let teams = &c.hooks[1];
        assert!(teams.events.is_empty() && teams.wants(EventType::WarrantyExpiring));
        assert_eq!(teams.timeout, Duration::from_secs(5));
        assert_eq!(
            teams.target,
            HookTarget::Command {
                argv: vec![
                    "/usr/local/bin/notify-teams".into(),
                    "--channel".into(),
                    "noc".into()
                ]
            }
        );
        assert_eq!(
            parse_ok("").agent.event_retention,
            crate::config::DEFAULT_EVENT_RETENTION
        );
        // Plain http:// to this machine only, as for base_url.
        parse_ok(&format!(
            "[[hook]]\nname = \"local\"\nevents = [\"*\"]\nurl = \"http://127.0.0.1:9000/hook\"\nsecret = \"{SECRET}\"\n"
        ));
    }

    #[test]
    fn every_mistake_in_a_hook_is_refused_with_its_place_and_what_to_do() {
        let hook = |body: &str| format!("[[hook]]\nname = \"h\"\n{body}");
        for (body, want) in [
            (
                format!(
                    "events = [\"*\"]\nurl = \"http://psa.example/x\"\nsecret = \"{SECRET}\"\n"
                ),
                "c.toml:4:7: `url` uses http:// to a non-loopback host",
            ),
            (
                format!(
                    "events = [\"*\"]\nurl = \"https://u:pw@psa.example/x\"\nsecret = \"{SECRET}\"\n"
                ),
                "`url` must not carry `user:password@`",
            ),
            (
                "events = [\"*\"]\nurl = \"https://psa.example/x\"\n".to_string(),
                "a webhook needs a `secret`",
            ),
            (
                "events = [\"*\"]\nurl = \"https://psa.example/x\"\nsecret = \"short\"\n"
                    .to_string(),
                "shorter than 16 characters",
            ),
            (
                format!(
                    "events = [\"run.done\"]\nurl = \"https://psa.example/x\"\nsecret = \"{SECRET}\"\n"
                ),
                "c.toml:3:11: hook `h`: unknown event type `run.done`; the types are run.started,",
            ),
            (
                "events = []\ncommand = [\"/bin/true\"]\n".to_string(),
                "`events` is empty",
            ),
            (
                "command = [\"/bin/true\"]\n".to_string(),
                "`events` is missing",
            ),
            (
                "events = [\"*\"]\ncommand = [\"notify-teams\"]\n".to_string(),
                "`notify-teams` is not an absolute path",
            ),
            (
                "events = [\"*\"]\ncommand = []\n".to_string(),
                "`command` is empty",
            ),
            (
                format!("events = [\"*\"]\ncommand = [\"/bin/true\"]\nsecret = \"{SECRET}\"\n"),
                "a command reads the event on its stdin",
            ),
            (
                format!(
                    "events = [\"*\"]\ncommand = [\"/bin/true\"]\nurl = \"https://x.example/\"\nsecret = \"{SECRET}\"\n"
                ),
                "give either `url` (a webhook) or `command`, not both",
            ),
            (
                "events = [\"*\"]\n".to_string(),
                "give `url` (a webhook, with `secret`) or `command`",
            ),
            (
                "events = [\"*\"]\ncommand = [\"/bin/true\"]\ntimeout = \"1h\"\n".to_string(),
                "`timeout` is at most 10m",
            ),
            (
                "events = [\"*\"]\ncommand = [\"/bin/true\"]\nshell = true\n".to_string(),
                "unknown field `shell`",
            ),
        ] {
            let e = parse_err(&hook(&body));
            assert!(e.contains(want), "{body}\n→ {e}");
            assert!(!e.contains(SECRET), "{e}");
        }
        let e = parse_err(
            "[[hook]]\nname = \"h\"\nevents = [\"*\"]\ncommand = [\"/bin/true\"]\n\
             [[hook]]\nname = \"h\"\nevents = [\"*\"]\ncommand = [\"/bin/false\"]\n",
        );
        assert!(e.contains("c.toml:6:8: duplicate hook name `h`"), "{e}");
        let e =
            parse_err("[[hook]]\nname = \"PSA\"\nevents = [\"*\"]\ncommand = [\"/bin/true\"]\n");
        assert!(
            e.contains("hook name `PSA` may use only a-z, 0-9 and '-'"),
            "{e}"
        );
        let e = parse_err("[agent]\nevent_retention = \"soon\"\n");
        assert!(e.contains("`event_retention`"), "{e}");
    }
}
