//! The AWS shared config files (`~/.aws/credentials`, `~/.aws/config`).
//!
//! `object_store` reads credentials from `AWS_*` environment variables,
//! web identity, container and instance credentials, but not from named
//! profiles. This reads the static keys, region and `endpoint_url` of one
//! profile (`AWS_PROFILE`, else `default`) so that `aws configure
//! --profile r2` works for sharegen too. Profiles that get their keys from
//! a `credential_process` or AWS SSO are refused with a hint: running
//! those is the AWS CLI's job.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What one profile sets.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AwsProfile {
    /// The profile's name.
    pub name: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

type Sections = HashMap<String, HashMap<String, String>>;

/// Parses an INI file of the AWS CLI's dialect: `[section]`, `key = value`,
/// `#`/`;` comments. Indented lines (nested settings such as `s3 =` …
/// `addressing_style = path`) are skipped.
fn parse_ini(text: &str) -> Sections {
    let mut out: Sections = HashMap::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        if raw.starts_with([' ', '\t']) {
            continue;
        }
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            out.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        if let (Some(section), Some((k, v))) = (&current, line.split_once('=')) {
            out.entry(section.clone())
                .or_default()
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    out
}

fn read(path: &Path) -> Result<Option<Sections>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(parse_ini(&t))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Reads the profile named by `AWS_PROFILE` (or `AWS_DEFAULT_PROFILE`,
/// else `default`). `env` looks variables up; `home` is the user's home.
/// `Ok(None)` when neither file has the profile and none was asked for by
/// name.
pub fn aws_profile(
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<Option<AwsProfile>, String> {
    let asked = env("AWS_PROFILE")
        .or_else(|| env("AWS_DEFAULT_PROFILE"))
        .filter(|s| !s.trim().is_empty());
    let name = asked.clone().unwrap_or_else(|| "default".into());
    let file = |var: &str, rel: &str| -> Option<PathBuf> {
        env(var)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".aws").join(rel)))
    };
    let creds_path = file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    let config_path = file("AWS_CONFIG_FILE", "config");
    let creds = match &creds_path {
        Some(p) => read(p)?,
        None => None,
    };
    let config = match &config_path {
        Some(p) => read(p)?,
        None => None,
    };
    let in_creds = creds.as_ref().and_then(|c| c.get(&name));
    let config_section = if name == "default" {
        config
            .as_ref()
            .and_then(|c| c.get("default").or_else(|| c.get("profile default")))
    } else {
        config
            .as_ref()
            .and_then(|c| c.get(&format!("profile {name}")))
    };
    if in_creds.is_none() && config_section.is_none() {
        return match asked {
            Some(n) => Err(format!(
                "AWS profile `{n}` is in neither {} nor {}",
                creds_path.map_or("~/.aws/credentials".into(), |p| p.display().to_string()),
                config_path.map_or("~/.aws/config".into(), |p| p.display().to_string()),
            )),
            None => Ok(None),
        };
    }
    // Keys in the credentials file win over keys in the config file.
    let get = |key: &str| -> Option<String> {
        in_creds
            .and_then(|s| s.get(key))
            .or_else(|| config_section.and_then(|s| s.get(key)))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let profile = AwsProfile {
        name: name.clone(),
        access_key_id: get("aws_access_key_id"),
        secret_access_key: get("aws_secret_access_key"),
        session_token: get("aws_session_token"),
        region: get("region"),
        endpoint_url: get("endpoint_url"),
    };
    if profile.access_key_id.is_none() {
        let indirect = [
            "credential_process",
            "sso_session",
            "sso_start_url",
            "role_arn",
        ]
        .into_iter()
        .find(|k| get(k).is_some());
        if let Some(k) = indirect {
            return Err(format!(
                "AWS profile `{name}` gets its keys through `{k}`, which sharegen does not run: \
                 export them first, e.g. `eval \"$(aws configure export-credentials --profile \
                 {name} --format env)\"`"
            ));
        }
    }
    Ok(Some(profile))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn home_with(creds: &str, config: &str) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(".aws")).unwrap();
        std::fs::write(tmp.path().join(".aws/credentials"), creds).unwrap();
        std::fs::write(tmp.path().join(".aws/config"), config).unwrap();
        tmp
    }

    #[test]
    fn reads_the_named_profile_from_both_files() {
        let home = home_with(
            "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = sdef\n\n\
             [r2]\n# comment\naws_access_key_id=AKR2\naws_secret_access_key = sr2\n",
            "[default]\nregion = eu-west-1\n[profile r2]\nregion = auto\n\
             endpoint_url = https://acct.r2.cloudflarestorage.com\ns3 =\n  addressing_style = path\n",
        );
        let p = aws_profile(&env_of(&[("AWS_PROFILE", "r2")]), Some(home.path()))
            .unwrap()
            .unwrap();
        assert_eq!(p.access_key_id.as_deref(), Some("AKR2"));
        assert_eq!(p.secret_access_key.as_deref(), Some("sr2"));
        assert_eq!(p.region.as_deref(), Some("auto"));
        assert_eq!(
            p.endpoint_url.as_deref(),
            Some("https://acct.r2.cloudflarestorage.com")
        );
        let d = aws_profile(&env_of(&[]), Some(home.path()))
            .unwrap()
            .unwrap();
        assert_eq!(d.access_key_id.as_deref(), Some("AKDEF"));
        assert_eq!(d.region.as_deref(), Some("eu-west-1"));
        assert_eq!(d.endpoint_url, None);
    }

    #[test]
    fn no_files_is_no_profile_unless_one_was_asked_for() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(aws_profile(&env_of(&[]), Some(tmp.path())).unwrap(), None);
        let err = aws_profile(&env_of(&[("AWS_PROFILE", "nope")]), Some(tmp.path())).unwrap_err();
        assert!(err.contains("`nope`"), "{err}");
    }

    #[test]
    fn explicit_file_locations_win() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("creds");
        std::fs::write(
            &f,
            "[default]\naws_access_key_id = X\naws_secret_access_key = Y\n",
        )
        .unwrap();
        let p = aws_profile(
            &env_of(&[("AWS_SHARED_CREDENTIALS_FILE", f.to_str().unwrap())]),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.access_key_id.as_deref(), Some("X"));
    }

    #[test]
    fn credential_process_profiles_are_refused_with_a_hint() {
        let home = home_with("", "[profile sso]\ncredential_process = /bin/true\n");
        let err = aws_profile(&env_of(&[("AWS_PROFILE", "sso")]), Some(home.path())).unwrap_err();
        assert!(err.contains("export-credentials"), "{err}");
    }
}
